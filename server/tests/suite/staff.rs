//! Console staff accounts on two nodes sharing one database (SQLite and PostgreSQL): an
//! invitation made on one node is accepted on the other, a session made on one is known on
//! the other and ended everywhere from either, failed logins are counted across nodes, a
//! second-factor code used on one is refused on the other, and the rules that need the
//! database (an email names one account, the last owner stays) hold on both back ends.

use finlock_server::Error;
use finlock_server::staff::{
    self, By, LoginAttempt, NewStaff, Role, StaffError, accounts::reinvite, throttle, totp,
};

use super::start_two_nodes;

const PASSWORD: &str = "correct horse battery staple";

fn attempt<'a>(email: &'a str, password: &'a str, code: Option<&'a str>) -> LoginAttempt<'a> {
    LoginAttempt {
        email,
        password,
        totp_code: code,
        address: Some("198.51.100.20"),
    }
}

fn slug(e: StaffError) -> &'static str {
    match e {
        StaffError::Other(Error::Conflict { slug, .. }) => slug,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn staff_sessions_invitations_and_throttling_hold_across_nodes() {
    let (a, b, _keys) = start_two_nodes().await;
    let lender = a.lender("Acme").await;
    let (da, db) = (a.handle.db(), b.handle.db());
    let now = a.now();
    let cli = By::cli(&lender.id);
    let owner = staff::add_with_password(
        da,
        cli,
        &NewStaff {
            email: "Owner@Shop.example",
            name: "Olive",
            role: Role::Owner,
        },
        PASSWORD,
        now,
    )
    .await
    .unwrap();

    // Invited on A, accepted on B (once), logged in on B, known on A.
    let invited = staff::invite(
        da,
        cli,
        &NewStaff {
            email: "agent@shop.example",
            name: "Abe",
            role: Role::Agent,
        },
        now,
    )
    .await
    .unwrap();
    let view = staff::invitation(db, &invited.token, now).await.unwrap();
    assert_eq!(view.lender_name, "Acme");
    let agent = staff::accept_invitation(db, &invited.token, PASSWORD, None, None, now + 1)
        .await
        .unwrap();
    assert!(matches!(
        staff::accept_invitation(da, &invited.token, PASSWORD, None, None, now + 2).await,
        Err(StaffError::InvitationInvalid)
    ));
    let on_a = staff::session(da, &agent.session.token, now + 3)
        .await
        .unwrap()
        .expect("the session is known on the other node");
    assert_eq!(on_a.staff.role, Role::Agent);
    assert_eq!(on_a.lender.lender_id, lender.id);
    assert!(staff::csrf_valid(&agent.session.token, &on_a.csrf));

    // The same email at another lender: refused on PostgreSQL too, nothing stored.
    let other = a.lender("Other").await;
    let taken = staff::invite(
        db,
        By::cli(&other.id),
        &NewStaff {
            email: " AGENT@shop.example",
            name: "Abe",
            role: Role::Agent,
        },
        now,
    )
    .await
    .unwrap_err();
    assert_eq!(slug(taken), "email-taken");
    assert!(
        staff::list(da, By::cli(&other.id))
            .await
            .unwrap()
            .is_empty()
    );

    // The last owner stays; with a second owner the first can step down.
    assert_eq!(
        slug(
            staff::change_role(db, cli, &owner.staff_id, Role::Agent, now)
                .await
                .unwrap_err()
        ),
        "last-owner"
    );
    staff::change_role(da, cli, &agent.staff.staff_id, Role::Owner, now)
        .await
        .unwrap();
    staff::change_role(db, cli, &owner.staff_id, Role::Viewer, now)
        .await
        .unwrap();

    // A second factor: a code used on A is refused on B.
    let agent_session = staff::session(db, &agent.session.token, now + 4)
        .await
        .unwrap()
        .unwrap();
    let setup = staff::begin_totp(da, &agent_session).await.unwrap();
    let secret = totp::base32_decode(&setup.secret_base32).unwrap();
    let code_at = |t: i64| totp::format_code(totp::code_at_step(&secret, totp::step_at(t)));
    staff::confirm_totp(db, &agent_session, &code_at(now + 4), now + 4)
        .await
        .unwrap();
    let later = now + 60;
    let code = code_at(later);
    staff::login(
        da,
        &attempt("agent@shop.example", PASSWORD, Some(&code)),
        later,
    )
    .await
    .unwrap();
    assert!(matches!(
        staff::login(
            db,
            &attempt("agent@shop.example", PASSWORD, Some(&code)),
            later
        )
        .await,
        Err(StaffError::BadSecondFactor)
    ));

    // Logout everywhere on B ends the sessions made on A.
    let ended = staff::logout_everywhere(db, cli, &agent.staff.staff_id, later)
        .await
        .unwrap();
    assert_eq!(ended, 2);
    assert!(
        staff::session(da, &agent.session.token, later)
            .await
            .unwrap()
            .is_none()
    );

    // Failed logins counted on both nodes throttle the account on both.
    let t0 = later - later.rem_euclid(throttle::PER_ACCOUNT.window_s);
    for i in 0..throttle::PER_ACCOUNT.max {
        let node = if i % 2 == 0 { da } else { db };
        assert!(matches!(
            staff::login(
                node,
                &attempt("owner@shop.example", "wrong password!", None),
                t0 + i
            )
            .await,
            Err(StaffError::BadCredentials)
        ));
    }
    for node in [da, db] {
        assert!(matches!(
            staff::login(
                node,
                &attempt("owner@shop.example", PASSWORD, None),
                t0 + 20
            )
            .await,
            Err(StaffError::Throttled { .. })
        ));
    }

    // Disabling on A ends B's sessions; a pending account gets a fresh link.
    let viewer_login = staff::login(
        db,
        &attempt("owner@shop.example", PASSWORD, None),
        t0 + throttle::PER_ACCOUNT.window_s,
    )
    .await
    .unwrap();
    staff::disable(
        da,
        cli,
        &owner.staff_id,
        t0 + throttle::PER_ACCOUNT.window_s,
    )
    .await
    .unwrap();
    assert!(
        staff::session(
            db,
            &viewer_login.session.token,
            t0 + throttle::PER_ACCOUNT.window_s
        )
        .await
        .unwrap()
        .is_none()
    );
    let pending = staff::invite(
        db,
        cli,
        &NewStaff {
            email: "late@shop.example",
            name: "Lee",
            role: Role::Viewer,
        },
        now,
    )
    .await
    .unwrap();
    let again = reinvite(da, cli, &pending.staff.staff_id, now + 80 * 3600)
        .await
        .unwrap();
    assert!(matches!(
        staff::invitation(db, &pending.token, now + 80 * 3600).await,
        Err(StaffError::InvitationInvalid)
    ));
    staff::accept_invitation(db, &again.token, PASSWORD, None, None, now + 80 * 3600)
        .await
        .unwrap();
}

/// Two owners demoting each other at the same moment on two nodes: exactly one succeeds,
/// every time; and concurrent staff changes of one lender all get their audit entries.
#[tokio::test]
async fn concurrent_staff_changes_keep_an_owner_and_every_audit_entry() {
    let (a, b, _keys) = start_two_nodes().await;
    let lender = a.lender("Acme").await;
    let (da, db) = (a.handle.db(), b.handle.db());
    let now = a.now();
    let cli = By::cli(&lender.id);
    for round in 0..5 {
        let mut owners = Vec::new();
        for who in ["x", "y"] {
            let email = format!("{who}{round}@shop.example");
            let new = NewStaff {
                email: &email,
                name: who,
                role: Role::Owner,
            };
            owners.push(
                staff::add_with_password(da, cli, &new, PASSWORD, now)
                    .await
                    .unwrap(),
            );
        }
        // Only these two are active owners.
        for s in staff::list(da, cli).await.unwrap() {
            if s.role == Role::Owner && !owners.iter().any(|o| o.staff_id == s.staff_id) {
                staff::disable(da, cli, &s.staff_id, now).await.unwrap();
            }
        }
        let (x, y) = (&owners[0], &owners[1]);
        let (rx, ry) = tokio::join!(
            staff::change_role(da, cli, &x.staff_id, Role::Agent, now),
            staff::change_role(db, cli, &y.staff_id, Role::Agent, now),
        );
        assert_eq!(
            usize::from(rx.is_ok()) + usize::from(ry.is_ok()),
            1,
            "round {round}: {rx:?} {ry:?}"
        );
        let refused = rx.err().or(ry.err()).expect("one refused");
        assert_eq!(slug(refused), "last-owner");
    }
    // Ten invitations at once, half on each node: ten log entries, numbered 1, 2, ….
    let before = finlock_server::lender_keys::list(da, &lender.id)
        .await
        .unwrap()
        .log
        .len();
    let emails: Vec<String> = (0..10).map(|i| format!("many{i}@shop.example")).collect();
    let invites = emails.iter().enumerate().map(|(i, email)| {
        let node = if i % 2 == 0 { da } else { db };
        async move {
            staff::invite(
                node,
                cli,
                &NewStaff {
                    email,
                    name: "Many",
                    role: Role::Viewer,
                },
                now,
            )
            .await
        }
    });
    for r in futures_join_all(invites).await {
        r.unwrap();
    }
    let log = finlock_server::lender_keys::list(da, &lender.id)
        .await
        .unwrap()
        .log;
    assert_eq!(log.len(), before + 10);
    for (i, e) in log.iter().enumerate() {
        assert_eq!(e.n, i as i64 + 1);
    }
}

/// Runs the futures concurrently on this task (no extra dependency).
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futures {
        set.push(Box::pin(f));
    }
    let mut out: Vec<Option<F::Output>> = (0..set.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(|o| o.expect("ready")).collect()
}
