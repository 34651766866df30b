//! Signing in to the lender console and what a session may do, over plain HTTP against a
//! real `finlock serve` (issue 16): one answer for a wrong email or password, the session
//! cookie's flags (`Secure` only with an https public URL), CSRF missing or wrong → 403 and
//! nothing changed, a viewer's forged post refused, login throttling, sign-out everywhere,
//! an invitation accepted once, another lender's staff id → 404, the second factor set up
//! and asked for, API keys made from the console naming the staff member.

#![cfg(unix)]

mod common;
#[path = "console_browser/harness.rs"]
#[allow(dead_code)]
mod harness;

use common::console::{Agent, Answer};
use finlock_server::staff::totp;
use harness::{Server, http_client};
use reqwest::StatusCode;
use serde_json::Value;

const PASSWORD: &str = "correct horse battery staple";
/// A server, a lender and its owner (signed in): (server, lender id, owner's staff id, owner).
async fn with_owner() -> (Server, String, String, Agent) {
    let server = Server::start();
    let lender = server.add_lender("Acme <b>Finance</b>");
    let owner_id = server.add_staff(
        &lender,
        "owner@acme.example",
        "Olive Owner",
        "owner",
        PASSWORD,
    );
    let owner = Agent::new(&server.url);
    owner.sign_in("owner@acme.example", PASSWORD).await;
    (server, lender, owner_id, owner)
}

/// The `<main>` part of a page.
fn main_of(html: &str) -> &str {
    let start = html.find("<main").unwrap_or(0);
    let end = html.find("</main>").unwrap_or(html.len());
    &html[start..end]
}

fn staff_of<'a>(list: &'a Value, staff_id: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|s| s["staff_id"] == staff_id)
        .unwrap_or_else(|| panic!("no {staff_id} in {list}"))
}

#[tokio::test]
async fn a_wrong_email_or_password_get_one_answer_and_success_sets_a_strict_cookie() {
    let server = Server::start();
    let lender = server.add_lender("Acme");
    server.add_staff(&lender, "ann@acme.example", "Ann", "agent", PASSWORD);
    let agent = Agent::new(&server.url);
    let wrong_password = agent
        .try_sign_in("ann@acme.example", "not the password at all", &[])
        .await;
    let unknown_email = agent
        .try_sign_in("nobody@acme.example", PASSWORD, &[])
        .await;
    assert_eq!(wrong_password.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown_email.status, StatusCode::UNAUTHORIZED);
    assert!(wrong_password.alert().is_some(), "{}", wrong_password.body);
    assert_eq!(wrong_password.alert(), unknown_email.alert());
    assert!(wrong_password.set_cookie("finlock_session").is_none());
    // The email typed stays in the form, escaped.
    assert!(wrong_password.body.contains("value=\"ann@acme.example\""));

    let ok = agent.try_sign_in(" ANN@acme.example ", PASSWORD, &[]).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.location.as_str(), "/console/");
    let cookie = ok.set_cookie("finlock_session").unwrap();
    assert!(cookie.starts_with("finlock_session=fls_"), "{cookie}");
    for part in [
        "; HttpOnly",
        "; SameSite=Strict",
        "; Path=/console",
        "; Max-Age=",
    ] {
        assert!(cookie.contains(part), "{part}: {cookie}");
    }
    assert!(!cookie.contains("Secure"), "{cookie}");
    let home = agent.get("/console/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Signed in as Ann<"), "{}", home.body);
    // Signed in, the sign-in page leads on.
    let again = agent.get("/console/login?next=/console/account").await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(again.location.as_str(), "/console/account");
}

#[tokio::test]
async fn sign_in_leads_back_only_to_a_console_page() {
    let server = Server::start();
    let lender = server.add_lender("Acme");
    server.add_staff(&lender, "ann@acme.example", "Ann", "owner", PASSWORD);
    let visitor = Agent::new(&server.url);
    let sent = visitor.get("/console/staff?x=1").await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    assert_eq!(
        sent.location.as_str(),
        "/console/login?next=/console/staff%3Fx%3D1"
    );
    let page = visitor.get(sent.location.as_str()).await;
    assert!(
        page.body
            .contains("name=\"next\" value=\"/console/staff?x=1\""),
        "{}",
        page.body
    );
    let ok = visitor
        .try_sign_in(
            "ann@acme.example",
            PASSWORD,
            &[("next", "/console/staff?x=1")],
        )
        .await;
    assert_eq!(ok.location.as_str(), "/console/staff?x=1");
    for evil in [
        "https://evil.example/",
        "//evil.example/",
        "/v1/lender/devices",
    ] {
        let other = Agent::new(&server.url);
        let ok = other
            .try_sign_in("ann@acme.example", PASSWORD, &[("next", evil)])
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{evil}");
        assert_eq!(ok.location.as_str(), "/console/", "{evil}");
    }
}

#[tokio::test]
async fn cookies_are_secure_only_with_an_https_public_url() {
    let server = Server::start_with(&["--public-url", "https://lender.example"]);
    let lender = server.add_lender("Acme");
    server.add_staff(&lender, "ann@acme.example", "Ann", "agent", PASSWORD);
    let agent = Agent::new(&server.url);
    let page = agent.get("/console/login").await;
    let form_cookie = page.set_cookie("finlock_login_form").unwrap();
    assert!(form_cookie.ends_with("; Secure"), "{form_cookie}");
    let ok = agent.try_sign_in("ann@acme.example", PASSWORD, &[]).await;
    let cookie = ok.set_cookie("finlock_session").unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("; HttpOnly; SameSite=Strict"), "{cookie}");
    // The sign-in form's cookie is removed once signed in.
    let gone = ok.set_cookie("finlock_login_form").unwrap();
    assert!(gone.contains("Max-Age=0"), "{gone}");
}

#[tokio::test]
async fn the_sign_in_form_needs_its_own_token() {
    let server = Server::start();
    let lender = server.add_lender("Acme");
    server.add_staff(&lender, "ann@acme.example", "Ann", "agent", PASSWORD);
    let agent = Agent::new(&server.url);
    agent.get("/console/login").await;
    for csrf in ["", "forged"] {
        let answer = agent
            .post(
                "/console/login",
                &[
                    ("email", "ann@acme.example"),
                    ("password", PASSWORD),
                    ("csrf", csrf),
                ],
            )
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{csrf:?}");
        assert!(answer.set_cookie("finlock_session").is_none());
    }
    // Another browser's token with this one's cookie: refused too.
    let other = Agent::new(&server.url);
    let their = other.get("/console/login").await.hidden("csrf");
    let answer = agent
        .post(
            "/console/login",
            &[
                ("email", "ann@acme.example"),
                ("password", PASSWORD),
                ("csrf", &their),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    // A post another site made the browser send.
    let csrf = agent.get("/console/login").await.hidden("csrf");
    let answer = agent
        .post_with(
            "/console/login",
            &[
                ("email", "ann@acme.example"),
                ("password", PASSWORD),
                ("csrf", &csrf),
            ],
            &[("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(answer.set_cookie("finlock_session").is_none());
}

#[tokio::test]
async fn a_form_without_the_right_token_changes_nothing() {
    let (server, lender, _, owner) = with_owner().await;
    let agent_id = server.add_staff(&lender, "agent@acme.example", "Agnes", "agent", PASSWORD);
    let staff_before = server.staff_list(&lender);
    let good = owner.csrf().await;
    let other_session = Agent::new(&server.url);
    other_session.sign_in("agent@acme.example", PASSWORD).await;
    let audit_before = server.lender_audit(&lender).len();
    let someone_elses = other_session.csrf().await;
    let disable = format!("/console/staff/{agent_id}/disable");
    let role = format!("/console/staff/{agent_id}/role");
    for csrf in [None, Some(""), Some("forged"), Some(someone_elses.as_str())] {
        let with = |mut pairs: Vec<(&'static str, String)>| {
            if let Some(csrf) = csrf {
                pairs.push(("csrf", csrf.to_string()));
            }
            pairs
        };
        for (path, pairs) in [
            (
                "/console/staff/invite",
                with(vec![
                    ("email", "new@acme.example".into()),
                    ("name", "New".into()),
                    ("role", "owner".into()),
                ]),
            ),
            (disable.as_str(), with(vec![])),
            (role.as_str(), with(vec![("role", "owner".into())])),
            ("/console/staff/keys", with(vec![("name", "forged".into())])),
            ("/console/logout-everywhere", with(vec![])),
            ("/console/logout", with(vec![])),
        ] {
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let answer = owner.post(path, &pairs).await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{path} {csrf:?}");
            assert!(
                answer.body.contains("This form has expired"),
                "{}",
                answer.body
            );
        }
    }
    // The right token from another site: refused as well.
    let answer = owner
        .post_with(
            &disable,
            &[("csrf", &good)],
            &[("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    // Nothing changed: the same staff, the same audit log, both still signed in.
    assert_eq!(server.staff_list(&lender), staff_before);
    assert_eq!(server.lender_audit(&lender).len(), audit_before);
    assert_eq!(owner.get("/console/account").await.status, StatusCode::OK);
    assert_eq!(
        other_session.get("/console/account").await.status,
        StatusCode::OK
    );
    // And with the right token it works.
    let answer = owner.post(&disable, &[("csrf", &good)]).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert!(staff_of(&server.staff_list(&lender), &agent_id)["disabled_at"].is_i64());
    // The disabled agent's session ended with it.
    let gone = other_session.get("/console/account").await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_post_without_a_session_is_refused() {
    let server = Server::start();
    let lender = server.add_lender("Acme");
    let owner_id = server.add_staff(&lender, "owner@acme.example", "Olive", "owner", PASSWORD);
    let nobody = Agent::new(&server.url);
    nobody.set("finlock_session", "fls_not-a-session");
    let answer = nobody
        .post(
            &format!("/console/staff/{owner_id}/disable"),
            &[("csrf", "x")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(staff_of(&server.staff_list(&lender), &owner_id)["disabled_at"].is_null());
    let page = nobody.get("/console/account").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page.location.as_str(),
        "/console/login?next=/console/account"
    );
}

#[tokio::test]
async fn a_viewer_or_agent_cannot_manage_staff_even_with_a_forged_post() {
    let (server, lender, owner_id, _owner) = with_owner().await;
    let agent_id = server.add_staff(&lender, "agent@acme.example", "Agnes", "agent", PASSWORD);
    server.add_staff(&lender, "viewer@acme.example", "Victor", "viewer", PASSWORD);
    let staff_before = server.staff_list(&lender);
    let audit_before = server.lender_audit(&lender).len();
    for email in ["viewer@acme.example", "agent@acme.example"] {
        let who = Agent::new(&server.url);
        who.sign_in(email, PASSWORD).await;
        let page = who.get("/console/staff").await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{email}");
        assert!(
            page.body.contains("Not allowed for your role"),
            "{}",
            page.body
        );
        let home = who.get("/console/").await;
        // The start page leads an owner to staff and keys; not them.
        assert!(
            !main_of(&home.body).contains("href=\"/console/staff\""),
            "{}",
            home.body
        );
        let csrf = who.csrf().await;
        for (path, pairs) in [
            (
                format!("/console/staff/{owner_id}/role"),
                vec![("role", "viewer"), ("csrf", &csrf)],
            ),
            (
                format!("/console/staff/{agent_id}/role"),
                vec![("role", "owner"), ("csrf", &csrf)],
            ),
            (
                format!("/console/staff/{owner_id}/disable"),
                vec![("csrf", &csrf)],
            ),
            (
                format!("/console/staff/{owner_id}/reset-password"),
                vec![("csrf", &csrf)],
            ),
            (
                format!("/console/staff/{owner_id}/logout-everywhere"),
                vec![("csrf", &csrf)],
            ),
            (
                "/console/staff/invite".to_string(),
                vec![
                    ("email", "x@acme.example"),
                    ("name", "X"),
                    ("role", "owner"),
                    ("csrf", &csrf),
                ],
            ),
            (
                "/console/staff/keys".to_string(),
                vec![("name", "mine"), ("csrf", &csrf)],
            ),
        ] {
            let answer = who.post(&path, &pairs).await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{email} {path}");
            assert!(
                answer.body.contains("Not allowed for your role"),
                "{}",
                answer.body
            );
        }
    }
    assert_eq!(server.staff_list(&lender), staff_before);
    // Nothing was logged either, but their two logins.
    let audit = server.lender_audit(&lender);
    let (logins, rest): (Vec<&Value>, Vec<&Value>) = audit[audit_before..]
        .iter()
        .partition(|e| e["action"] == "staff_logged_in");
    assert!(rest.is_empty(), "{rest:?}");
    assert_eq!(logins.len(), 2, "{audit:?}");
}

#[tokio::test]
async fn failed_sign_ins_are_throttled_with_the_wait() {
    let server = Server::start();
    let lender = server.add_lender("Acme");
    server.add_staff(&lender, "ann@acme.example", "Ann", "agent", PASSWORD);
    let guesser = Agent::new(&server.url);
    for i in 0..10 {
        let answer = guesser
            .try_sign_in("ann@acme.example", &format!("guess number {i:04}"), &[])
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let refused = guesser.try_sign_in("ann@acme.example", PASSWORD, &[]).await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.body
    );
    assert!(refused.set_cookie("finlock_session").is_none());
    let alert = refused.alert().unwrap();
    let minutes: u64 = alert
        .strip_prefix("Too many failed attempts. Try again in ")
        .and_then(|rest| rest.strip_suffix(" minutes."))
        .unwrap_or_else(|| panic!("{alert}"))
        .parse()
        .unwrap();
    assert!((1..=15).contains(&minutes), "{alert}");
    // Another account from the same address is not locked by these.
    server.add_staff(&lender, "bob@acme.example", "Bob", "agent", PASSWORD);
    Agent::new(&server.url)
        .sign_in("bob@acme.example", PASSWORD)
        .await;
}

#[tokio::test]
async fn sign_out_ends_this_session_and_everywhere_ends_the_others() {
    let server = Server::start();
    let lender = server.add_lender("Acme");
    server.add_staff(&lender, "ann@acme.example", "Ann", "agent", PASSWORD);
    let phone = Agent::new(&server.url);
    let desk = Agent::new(&server.url);
    let till = Agent::new(&server.url);
    for a in [&phone, &desk, &till] {
        a.sign_in("ann@acme.example", PASSWORD).await;
    }
    let csrf = till.csrf().await;
    let out = till.post("/console/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location.as_str(), "/console/login");
    assert!(
        out.set_cookie("finlock_session")
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(desk.get("/console/account").await.status, StatusCode::OK);
    let csrf = phone.csrf().await;
    let out = phone
        .post("/console/logout-everywhere", &[("csrf", &csrf)])
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location.as_str(), "/console/login");
    let desk_now = desk.get("/console/account").await;
    assert_eq!(desk_now.status, StatusCode::SEE_OTHER);
    assert_eq!(
        desk_now.location.as_str(),
        "/console/login?next=/console/account"
    );
    assert!(
        server
            .lender_audit(&lender)
            .iter()
            .any(|e| e["action"] == "staff_logged_out_everywhere")
    );
}

/// The invitation link the staff page shows once, as a path.
fn shown_link(answer: &Answer) -> String {
    let marker = "<code id=\"once-value\">";
    let at = answer
        .body
        .find(marker)
        .unwrap_or_else(|| panic!("{}", answer.body))
        + marker.len();
    let code = &answer.body[at..at + answer.body[at..].find("</code>").unwrap()];
    let link = code.replace("<wbr>", "");
    let at = link
        .find("/console/invite/")
        .unwrap_or_else(|| panic!("{link}"));
    link[at..].to_string()
}

#[tokio::test]
async fn an_invitation_from_the_console_is_accepted_once() {
    let (server, lender, owner_id, owner) = with_owner().await;
    let csrf = owner.csrf().await;
    let invited = owner
        .post(
            "/console/staff/invite",
            &[
                ("email", "Nia@Acme.example"),
                ("name", "Nia <i>N</i>"),
                ("role", "agent"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(invited.status, StatusCode::OK, "{}", invited.body);
    let link = shown_link(&invited);
    assert!(
        invited.body.contains("Nia &#60;i&#62;N&#60;/i&#62;"),
        "{}",
        invited.body
    );
    // The list says invited; the audit log names the owner.
    let list = server.staff_list(&lender);
    let nia = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["email"] == "nia@acme.example")
        .unwrap();
    assert_eq!(nia["has_password"], false);
    assert_eq!(nia["role"], "agent");
    let last = server.lender_audit(&lender).pop().unwrap();
    assert_eq!(last["action"], "staff_invited");
    assert_eq!(last["actor"], format!("staff:{owner_id}"));

    let newcomer = Agent::new(&server.url);
    let page = newcomer.get(&link).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("Acme &#60;b&#62;Finance&#60;/b&#62;"),
        "{}",
        page.body
    );
    let csrf = page.hidden("csrf");
    let mismatch = newcomer
        .post(
            &link,
            &[
                ("password", PASSWORD),
                ("confirm", "something else entirely"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
    let short = newcomer
        .post(
            &link,
            &[("password", "short"), ("confirm", "short"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    let forged = newcomer
        .post(
            &link,
            &[
                ("password", PASSWORD),
                ("confirm", PASSWORD),
                ("csrf", "forged"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(forged.set_cookie("finlock_session").is_none());
    let accepted = newcomer
        .post(
            &link,
            &[
                ("password", PASSWORD),
                ("confirm", PASSWORD),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.body);
    assert_eq!(accepted.location.as_str(), "/console/");
    let home = newcomer.get("/console/").await;
    assert!(
        home.body
            .contains("Signed in as Nia &#60;i&#62;N&#60;/i&#62;<"),
        "{}",
        home.body
    );
    // Once only: the link is dead now, for the page and the form.
    let again = Agent::new(&server.url);
    let dead = again.get(&link).await;
    assert_eq!(dead.status, StatusCode::NOT_FOUND);
    assert!(
        dead.body.contains("This link cannot be used"),
        "{}",
        dead.body
    );
    let csrf = again.get("/console/login").await.hidden("csrf");
    let replay = again
        .post(
            &link,
            &[
                ("password", "another long password"),
                ("confirm", "another long password"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(replay.status, StatusCode::NOT_FOUND);
    assert!(replay.set_cookie("finlock_session").is_none());
    // She signs in with the password she chose.
    Agent::new(&server.url)
        .sign_in("nia@acme.example", PASSWORD)
        .await;
}

#[tokio::test]
async fn another_lenders_staff_and_keys_are_not_found() {
    let (server, _lender, _, owner) = with_owner().await;
    let other_lender = server.add_lender("Other");
    let theirs = server.add_staff(
        &other_lender,
        "them@other.example",
        "Them",
        "agent",
        PASSWORD,
    );
    let their_owner = Agent::new(&server.url);
    server.add_staff(
        &other_lender,
        "boss@other.example",
        "Boss",
        "owner",
        PASSWORD,
    );
    their_owner.sign_in("boss@other.example", PASSWORD).await;
    let their_csrf = their_owner.csrf().await;
    let made = their_owner
        .post(
            "/console/staff/keys",
            &[("name", "till"), ("csrf", &their_csrf)],
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let marker = "id=\"key-";
    let at = made.body.find(marker).unwrap() + marker.len();
    let their_key = made.body[at..at + made.body[at..].find('"').unwrap()].to_string();

    let audit_before = server.lender_audit(&other_lender).len();
    let csrf = owner.csrf().await;
    for (path, pairs) in [
        (
            format!("/console/staff/{theirs}/disable"),
            vec![("csrf", csrf.as_str())],
        ),
        (
            format!("/console/staff/{theirs}/role"),
            vec![("role", "viewer"), ("csrf", &csrf)],
        ),
        (
            format!("/console/staff/{theirs}/reset-password"),
            vec![("csrf", &csrf)],
        ),
        (
            format!("/console/staff/{theirs}/logout-everywhere"),
            vec![("csrf", &csrf)],
        ),
        (
            format!("/console/staff/keys/{their_key}/revoke"),
            vec![("csrf", &csrf)],
        ),
        (
            "/console/staff/stf-no-such-one/enable".to_string(),
            vec![("csrf", &csrf)],
        ),
    ] {
        let answer = owner.post(&path, &pairs).await;
        assert_eq!(
            answer.status,
            StatusCode::NOT_FOUND,
            "{path}: {}",
            answer.body
        );
        assert!(answer.body.contains("Page not found"), "{}", answer.body);
    }
    assert_eq!(server.lender_audit(&other_lender).len(), audit_before);
    let them = staff_of(&server.staff_list(&other_lender), &theirs).clone();
    assert!(them["disabled_at"].is_null());
    assert_eq!(them["role"], "agent");
    // The staff page lists this lender's staff only.
    let page = owner.get("/console/staff").await;
    assert!(!page.body.contains("them@other.example"));
    assert!(!page.body.contains(&their_key));
    // A signed-in member of staff gets 404 for a page that does not exist.
    assert_eq!(
        owner.get("/console/no-such-page").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn an_api_key_made_in_the_console_names_the_owner_and_its_secret_is_shown_once() {
    let (server, _lender, owner_id, owner) = with_owner().await;
    let csrf = owner.csrf().await;
    let made = owner
        .post(
            "/console/staff/keys",
            &[("name", "shop till 3"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let code_at = made.body.find("<code id=\"once-value\">").unwrap();
    let secret = made.body[code_at..]
        .split_once('>')
        .unwrap()
        .1
        .split("</code>")
        .next()
        .unwrap()
        .replace("<wbr>", "");
    assert!(secret.starts_with("flk_"), "{secret}");
    // The secret works, and the API says who made the key.
    let keys: Value = http_client()
        .get(format!("{}/v1/lender/api-keys", server.url))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "shop till 3")
        .unwrap()
        .clone();
    assert_eq!(key["created_by"], format!("staff:{owner_id}"));
    // Not shown again; the list names the owner.
    let page = owner.get("/console/staff").await;
    assert!(!page.body.contains(&secret));
    assert!(!page.body.contains("once-value"));
    assert!(page.body.contains("Olive Owner"));
    // Revoked from the console, named too.
    let key_id = key["key_id"].as_str().unwrap();
    let revoked = owner
        .post(
            &format!("/console/staff/keys/{key_id}/revoke"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    assert_eq!(
        revoked.location.as_str(),
        "/console/staff?done=keys-done-revoked"
    );
    let r = http_client()
        .get(format!("{}/v1/lender/api-keys", server.url))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let page = owner.get(revoked.location.as_str()).await;
    assert!(page.body.contains("The key was revoked."), "{}", page.body);
}

/// The key in the set-up page (pieces joined).
fn totp_secret(answer: &Answer) -> Vec<u8> {
    let marker = "<code id=\"totp-secret\">";
    let at = answer
        .body
        .find(marker)
        .unwrap_or_else(|| panic!("{}", answer.body))
        + marker.len();
    let text = answer.body[at..at + answer.body[at..].find("</code>").unwrap()]
        .replace("<wbr>", "")
        .replace(" ", "");
    totp::base32_decode(&text).unwrap()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn the_second_factor_is_set_up_with_a_qr_code_and_then_asked_for() {
    let server = Server::start();
    let lender = server.add_lender("Acme");
    server.add_staff(&lender, "ann@acme.example", "Ann", "agent", PASSWORD);
    let ann = Agent::new(&server.url);
    ann.sign_in("ann@acme.example", PASSWORD).await;
    let csrf = ann.csrf().await;
    let setup = ann.post("/console/account/totp", &[("csrf", &csrf)]).await;
    assert_eq!(setup.status, StatusCode::OK, "{}", setup.body);
    assert!(
        setup.body.contains("<img src=\"data:image/png;base64,"),
        "{}",
        setup.body
    );
    assert!(setup.body.contains("otpauth://totp/"), "{}", setup.body);
    let secret = totp_secret(&setup);
    // A wrong code: refused, still off.
    let step = totp::step_at(now());
    let wrong = (0..1_000_000)
        .map(totp::format_code)
        .find(|c| (-2..=2).all(|d| *c != totp::format_code(totp::code_at_step(&secret, step + d))))
        .unwrap();
    let refused = ann
        .post(
            "/console/account/totp/confirm",
            &[("code", &wrong), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(server.staff_list(&lender)[0]["totp_enabled"], false);
    let code = totp::format_code(totp::code_at_step(&secret, step));
    let on = ann
        .post(
            "/console/account/totp/confirm",
            &[("code", &code), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(on.status, StatusCode::SEE_OTHER, "{}", on.body);
    assert_eq!(server.staff_list(&lender)[0]["totp_enabled"], true);
    // Signing in now asks for the code, and takes the next one.
    let other = Agent::new(&server.url);
    let asked = other.try_sign_in("ann@acme.example", PASSWORD, &[]).await;
    assert_eq!(asked.status, StatusCode::OK);
    assert!(
        asked.alert().unwrap().contains("6-digit code"),
        "{}",
        asked.body
    );
    assert!(asked.set_cookie("finlock_session").is_none());
    let next = totp::format_code(totp::code_at_step(&secret, step + 1));
    let ok = other
        .try_sign_in("ann@acme.example", PASSWORD, &[("otp", &next)])
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
}

#[tokio::test]
async fn a_password_change_needs_the_current_one_and_ends_the_other_sessions() {
    let server = Server::start();
    let lender = server.add_lender("Acme");
    server.add_staff(&lender, "ann@acme.example", "Ann", "agent", PASSWORD);
    let here = Agent::new(&server.url);
    let elsewhere = Agent::new(&server.url);
    here.sign_in("ann@acme.example", PASSWORD).await;
    elsewhere.sign_in("ann@acme.example", PASSWORD).await;
    let csrf = here.csrf().await;
    let new = "a brand new passphrase";
    let wrong = here
        .post(
            "/console/account/password",
            &[
                ("current", "not my password"),
                ("new", new),
                ("confirm", new),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        elsewhere.get("/console/account").await.status,
        StatusCode::OK
    );
    let changed = here
        .post(
            "/console/account/password",
            &[
                ("current", PASSWORD),
                ("new", new),
                ("confirm", new),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    let page = here.get(changed.location.as_str()).await;
    assert!(
        page.body.contains("Your password was changed."),
        "{}",
        page.body
    );
    assert_eq!(
        elsewhere.get("/console/account").await.status,
        StatusCode::SEE_OTHER
    );
    Agent::new(&server.url)
        .sign_in("ann@acme.example", new)
        .await;
    let old = Agent::new(&server.url)
        .try_sign_in("ann@acme.example", PASSWORD, &[])
        .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_owner_manages_roles_passwords_and_access_within_the_rules() {
    let (server, lender, owner_id, owner) = with_owner().await;
    let agnes_id = server.add_staff(&lender, "agnes@acme.example", "Agnes", "agent", PASSWORD);
    let agnes = Agent::new(&server.url);
    agnes.sign_in("agnes@acme.example", PASSWORD).await;
    let csrf = owner.csrf().await;
    let role_of = |id: &str| staff_of(&server.staff_list(&lender), id)["role"].clone();

    // A role change, audited with the owner's name.
    let changed = owner
        .post(
            &format!("/console/staff/{agnes_id}/role"),
            &[("role", "viewer"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER);
    assert_eq!(
        changed.location.as_str(),
        "/console/staff?done=staff-done-role"
    );
    assert!(
        owner
            .get(changed.location.as_str())
            .await
            .body
            .contains("The role was changed.")
    );
    assert_eq!(role_of(&agnes_id), "viewer");
    let last = server.lender_audit(&lender).pop().unwrap();
    assert_eq!(last["action"], "staff_role_changed");
    assert_eq!(last["actor"], format!("staff:{owner_id}"));
    // A role that does not exist: 400, nothing changed.
    let bad = owner
        .post(
            &format!("/console/staff/{agnes_id}/role"),
            &[("role", "admin"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(role_of(&agnes_id), "viewer");

    // The last owner cannot step down, even by a forged post.
    let audit_before = server.lender_audit(&lender).len();
    let refused = owner
        .post(
            &format!("/console/staff/{owner_id}/role"),
            &[("role", "agent"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(
        refused.alert().unwrap().contains("last active owner"),
        "{}",
        refused.body
    );
    let refused = owner
        .post(
            &format!("/console/staff/{owner_id}/disable"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(role_of(&owner_id), "owner");
    assert_eq!(server.lender_audit(&lender).len(), audit_before);

    // Invitations with a bad email or a taken one store nothing.
    for (email, status) in [
        ("not an email", StatusCode::UNPROCESSABLE_ENTITY),
        ("agnes@acme.example", StatusCode::CONFLICT),
    ] {
        let answer = owner
            .post(
                "/console/staff/invite",
                &[
                    ("email", email),
                    ("name", "X"),
                    ("role", "agent"),
                    ("csrf", &csrf),
                ],
            )
            .await;
        assert_eq!(answer.status, status, "{email}");
        assert!(
            answer.alert().unwrap().contains("Nothing was changed."),
            "{email}"
        );
        assert!(!answer.body.contains("once-value"));
    }
    assert_eq!(server.staff_list(&lender).as_array().unwrap().len(), 2);

    // One's own password is changed, not reset.
    let own = owner
        .post(
            &format!("/console/staff/{owner_id}/reset-password"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(own.status, StatusCode::CONFLICT);
    // A reset: her session ends, the old password stops working, the link sets a new one.
    let reset = owner
        .post(
            &format!("/console/staff/{agnes_id}/reset-password"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.body);
    assert!(
        reset.body.contains("The password of Agnes no longer works"),
        "{}",
        reset.body
    );
    let link = shown_link(&reset);
    assert_eq!(
        agnes.get("/console/account").await.status,
        StatusCode::SEE_OTHER
    );
    let old = Agent::new(&server.url)
        .try_sign_in("agnes@acme.example", PASSWORD, &[])
        .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let csrf_form = agnes.get(&link).await.hidden("csrf");
    let new = "agnes chose this one";
    let accepted = agnes
        .post(
            &link,
            &[("password", new), ("confirm", new), ("csrf", &csrf_form)],
        )
        .await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.body);
    Agent::new(&server.url)
        .sign_in("agnes@acme.example", new)
        .await;

    // Disable and enable again.
    let off = owner
        .post(
            &format!("/console/staff/{agnes_id}/disable"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        off.location.as_str(),
        "/console/staff?done=staff-done-disabled"
    );
    let refused = Agent::new(&server.url)
        .try_sign_in("agnes@acme.example", new, &[])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.alert().unwrap().contains("disabled"),
        "{}",
        refused.body
    );
    let on = owner
        .post(
            &format!("/console/staff/{agnes_id}/enable"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        on.location.as_str(),
        "/console/staff?done=staff-done-enabled"
    );
    Agent::new(&server.url)
        .sign_in("agnes@acme.example", new)
        .await;
    // An unknown notice is not shown.
    let page = owner.get("/console/staff?done=%3Cscript%3E").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("role=\"status\""), "{}", page.body);
}

#[tokio::test]
async fn a_second_factor_is_turned_off_with_a_code_or_by_an_owner() {
    let (server, lender, _, owner) = with_owner().await;
    let ann_id = server.add_staff(&lender, "ann@acme.example", "Ann", "agent", PASSWORD);
    let ann = Agent::new(&server.url);
    ann.sign_in("ann@acme.example", PASSWORD).await;
    let csrf = ann.csrf().await;
    let setup = ann.post("/console/account/totp", &[("csrf", &csrf)]).await;
    let secret = totp_secret(&setup);
    let step = totp::step_at(now());
    let code = |d: i64| totp::format_code(totp::code_at_step(&secret, step + d));
    let wrong = (0..1_000_000)
        .map(totp::format_code)
        .find(|c| (-3..=3).all(|d| *c != code(d)))
        .unwrap();
    let on = ann
        .post(
            "/console/account/totp/confirm",
            &[("code", &code(0)), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(on.status, StatusCode::SEE_OTHER);
    let enabled = |id: &str| staff_of(&server.staff_list(&lender), id)["totp_enabled"].clone();
    assert_eq!(enabled(&ann_id), true);
    // Her own: a wrong or missing code keeps it on.
    for given in [wrong.as_str(), ""] {
        let kept = ann
            .post(
                "/console/account/totp/off",
                &[("code", given), ("csrf", &csrf)],
            )
            .await;
        assert_eq!(kept.status, StatusCode::UNAUTHORIZED, "{given:?}");
        assert_eq!(enabled(&ann_id), true);
    }
    let off = ann
        .post(
            "/console/account/totp/off",
            &[("code", &code(1)), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        off.location.as_str(),
        "/console/account?done=account-totp-disabled"
    );
    assert_eq!(enabled(&ann_id), false);
    // On again; then an owner turns it off for her (a lost phone), no code needed.
    let setup = ann.post("/console/account/totp", &[("csrf", &csrf)]).await;
    let secret = totp_secret(&setup);
    let again = totp::format_code(totp::code_at_step(&secret, totp::step_at(now())));
    let on = ann
        .post(
            "/console/account/totp/confirm",
            &[("code", &again), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(on.status, StatusCode::SEE_OTHER, "{}", on.body);
    assert_eq!(enabled(&ann_id), true);
    let owner_csrf = owner.csrf().await;
    let page = owner.get("/console/staff").await;
    assert!(
        page.body
            .contains(&format!("/console/staff/{ann_id}/totp-off"))
    );
    let done = owner
        .post(
            &format!("/console/staff/{ann_id}/totp-off"),
            &[("csrf", &owner_csrf)],
        )
        .await;
    assert_eq!(
        done.location.as_str(),
        "/console/staff?done=staff-done-totp-off"
    );
    assert_eq!(enabled(&ann_id), false);
    Agent::new(&server.url)
        .sign_in("ann@acme.example", PASSWORD)
        .await;
}
