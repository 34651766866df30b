//! The import operations against a real SQLite database: all rows or none, the API's
//! rules per row, idempotent re-import of a statement, audit entries.

use proptest::prelude::*;
use sqlx::Row as _;

use super::Reason;
use super::apply::{Failure, PaymentStatus, import_payments, import_sales};
use crate::app::App;
use crate::clock::ManualClock;
use crate::config::Config;
use crate::db::Db;
use crate::db::queries::{self, LenderRow};
use crate::devices::Caller;
use crate::devices::payments::{self, PaymentRequest};

/// 2026-01-01.
const T0: i64 = 1_767_225_600;

struct Fixture {
    _dir: tempfile::TempDir,
    app: App,
    acme: LenderRow,
    other: LenderRow,
}

async fn lender(db: &Db, id: &str) -> LenderRow {
    let row = LenderRow {
        lender_id: id.into(),
        name: id.into(),
        phone: "+254700000001".into(),
        email: None,
        payment_url: "https://pay.example/p".into(),
        support_url: None,
        jwks: "{}".into(),
        created_at: T0,
    };
    queries::insert_lender(&db.write, &row, &format!("key-{id}"))
        .await
        .unwrap();
    row
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let db = Db::connect(&url, 1).await.unwrap();
    let acme = lender(&db, "lnd-acme").await;
    let other = lender(&db, "lnd-other").await;
    let config = Config::local(url, dir.path().join("keys"));
    let app = App::new(db, ManualClock::new(T0), config, String::new());
    Fixture {
        _dir: dir,
        app,
        acme,
        other,
    }
}

impl Fixture {
    fn acme(&self) -> Caller<'_> {
        Caller::lender(&self.acme, Some("key-1"))
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query(sql)
            .fetch_one(&self.app.db.read)
            .await
            .unwrap()
            .try_get(0)
            .unwrap()
    }

    async fn devices(&self) -> i64 {
        self.count("SELECT COUNT(*) FROM devices").await
    }

    async fn payments(&self) -> i64 {
        self.count("SELECT COUNT(*) FROM payments").await
    }

    /// Registers devices for `by` through a sales file; their ids in row order.
    async fn sell(&self, by: Caller<'_>, rows: &[&str]) -> Vec<String> {
        let mut text = String::from(
            "customer_ref,imei,currency,grace_days,installments,amount,first_due,every\n",
        );
        for r in rows {
            text.push_str(r);
            text.push('\n');
        }
        let done = import_sales(&self.app, by, text.as_bytes(), false)
            .await
            .unwrap_or_else(|f| panic!("{f:?}"));
        done.devices
            .into_iter()
            .map(|d| d.device_id.unwrap())
            .collect()
    }

    async fn paid(&self, device_id: &str) -> u64 {
        queries::lender_device(&self.app.db.read, &self.acme.lender_id, device_id)
            .await
            .unwrap()
            .unwrap()
            .paid_minor
    }
}

fn rows_of(f: Failure) -> Vec<(u64, Option<String>, String)> {
    match f {
        Failure::Rows(r) => r
            .errors
            .into_iter()
            .map(|e| (e.line, e.column, e.reason))
            .collect(),
        Failure::Error(e) => panic!("not row errors: {e:?}"),
    }
}

const SALE: &str = "C-1,,KES,7,3,1000.00,2026-02-01,month";

#[tokio::test]
async fn a_sales_file_registers_every_device_with_its_audit_entry_and_the_import_logged() {
    let f = fixture().await;
    let text = "customer_ref,imei,currency,grace_days,installments,amount,first_due,every\n\
                C-1,352099001761481,KES,7,3,1000.00,2026-02-01,month\n\
                C-2,,KES,7,2,500,2026-02-01,week\n";
    let dry = import_sales(&f.app, f.acme(), text.as_bytes(), true)
        .await
        .unwrap();
    assert!(dry.dry_run && dry.import_id.is_none());
    assert_eq!(dry.devices.len(), 2);
    assert!(dry.devices.iter().all(|d| d.device_id.is_none()));
    assert_eq!(f.devices().await, 0, "a dry run stores nothing");

    let done = import_sales(&f.app, f.acme(), text.as_bytes(), false)
        .await
        .unwrap();
    let import_id = done.import_id.unwrap();
    assert_eq!(done.devices.len(), 2);
    assert_eq!(done.devices[1].line, 3);
    assert_eq!(done.devices[1].customer_ref.as_deref(), Some("C-2"));
    let id = done.devices[0].device_id.as_deref().unwrap();
    let row = queries::lender_device(&f.app.db.read, "lnd-acme", id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.total_minor, 300_000);
    assert_eq!(
        row.enrollment_code.as_deref(),
        done.devices[0].enrollment_code.as_deref()
    );
    let registered = f
        .count(
            "SELECT COUNT(*) FROM audit WHERE action = 'registered' \
             AND actor = 'lender:lnd-acme' AND api_key_id = 'key-1'",
        )
        .await;
    assert_eq!(registered, 2);
    let detail: String = sqlx::query(
        "SELECT detail FROM lender_audit WHERE lender_id = 'lnd-acme' AND action = 'sales_imported'",
    )
    .fetch_one(&f.app.db.read)
    .await
    .unwrap()
    .try_get(0)
    .unwrap();
    assert!(
        detail.contains(&import_id) && detail.contains("\"devices\":2"),
        "{detail}"
    );
    // Each device's own entry names the import.
    let named = f
        .count(&format!(
            "SELECT COUNT(*) FROM audit WHERE action = 'registered' \
             AND detail LIKE '%\"import_id\":\"{import_id}\"%'"
        ))
        .await;
    assert_eq!(named, 2);
}

#[tokio::test]
async fn an_imei_financed_already_fails_its_row_and_stores_nothing() {
    let f = fixture().await;
    // Financed by another lender: the same message as the API's, naming no lender.
    f.sell(
        Caller::lender(&f.other, None),
        &["O-1,352099001761481,KES,7,3,1000.00,2026-02-01,month"],
    )
    .await;
    let text = "customer_ref,imei,currency,grace_days,installments,amount,first_due,every\n\
                C-1,,KES,7,3,1000.00,2026-02-01,month\n\
                C-2,35-209900-176148-1,KES,7,3,1000.00,2026-02-01,month\n";
    for dry_run in [true, false] {
        let e = rows_of(
            import_sales(&f.app, f.acme(), text.as_bytes(), dry_run)
                .await
                .unwrap_err(),
        );
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].0, e[0].1.as_deref()), (3, Some("imei")));
        assert!(e[0].2.contains("financed elsewhere"), "{e:?}");
        assert!(!e[0].2.contains("lnd-other"));
    }
    assert_eq!(f.devices().await, 1, "only the other lender's device");
}

/// A row the lender's compliance profile forbids is named with its line, its column and
/// the rule (code `compliance`), beside the file's other bad rows; nothing is stored.
#[tokio::test]
async fn a_row_the_compliance_profile_forbids_is_named_with_its_line_and_rule() {
    let f = fixture().await;
    crate::compliance::lender::set(
        &f.app.db,
        &f.acme.lender_id,
        &crate::compliance::lender::LenderCompliance {
            profile: "in-rbi-draft".into(),
            payment_apps: Vec::new(),
        },
        crate::audit::Actor::Cli {
            lender_id: &f.acme.lender_id,
        },
        T0,
    )
    .await
    .unwrap();
    // Row 2 may restrict at 90 days past due; rows 3 and 4 sooner.
    let text = "customer_ref,imei,currency,grace_days,installments,amount,first_due,every\n\
                C-1,,KES,90,3,1000.00,2026-02-01,month\n\
                C-2,,KES,7,3,1000.00,2026-02-01,month\n\
                C-3,,KES,89,3,1000.00,2026-02-01,month\n";
    for dry_run in [true, false] {
        let Failure::Rows(rejected) = import_sales(&f.app, f.acme(), text.as_bytes(), dry_run)
            .await
            .unwrap_err()
        else {
            panic!("row errors expected");
        };
        let lines: Vec<u64> = rejected.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4], "{rejected:?}");
        let refused = &rejected.errors[0];
        assert_eq!(refused.column.as_deref(), Some("grace_days"));
        assert_eq!(
            refused.code,
            Reason::Compliance {
                profile: "in-rbi-draft".into(),
                rule: "restricted.min_days_past_due".into(),
            }
        );
        assert!(refused.reason.contains("in-rbi-draft"), "{refused:?}");
        assert!(
            refused.reason.contains("restricted.min_days_past_due"),
            "{refused:?}"
        );
    }
    assert_eq!(f.devices().await, 0, "nothing stored");
}

#[tokio::test]
async fn payments_reconcile_a_statement_once() {
    let f = fixture().await;
    let ids = f
        .sell(f.acme(), &[SALE, "C-2,,KES,7,3,1000.00,2026-02-01,month"])
        .await;
    let text = format!(
        "Device,Amount,Reference,Currency,Paid_at\r\n\
         {},1000.00,QK1,KES,2025-12-31\r\n\
         C-2,250.50,QK2,,\r\n\
         {},1000,QK3,,\r\n",
        ids[0], ids[0]
    );
    let dry = import_payments(&f.app, f.acme(), text.as_bytes(), true)
        .await
        .unwrap();
    assert_eq!((dry.recorded, dry.already_recorded), (3, 0));
    assert_eq!(f.payments().await, 0, "a dry run stores nothing");

    let done = import_payments(&f.app, f.acme(), text.as_bytes(), false)
        .await
        .unwrap();
    assert_eq!((done.recorded, done.already_recorded), (3, 0));
    assert_eq!(
        done.payments[1].device_id, ids[1],
        "found by customer reference"
    );
    assert_eq!(done.payments[1].amount_minor, 25_050);
    assert!(done.payments.iter().all(|p| p.payment_id.is_some()));
    assert_eq!(f.paid(&ids[0]).await, 200_000);
    assert_eq!(f.paid(&ids[1]).await, 25_050);
    let audited = f
        .count("SELECT COUNT(*) FROM audit WHERE action = 'payment' AND actor = 'lender:lnd-acme'")
        .await;
    assert_eq!(audited, 3);
    let import_id = done.import_id.clone().unwrap();
    let named = f
        .count(&format!(
            "SELECT COUNT(*) FROM audit WHERE action = 'payment' \
             AND detail LIKE '%\"import_id\":\"{import_id}\"%'"
        ))
        .await;
    assert_eq!(named, 3, "every payment's entry names its import");

    // The same statement again, with one new line: only that one counts.
    let again = format!("{text}{},100,QK4,,\r\n", ids[1]);
    let done = import_payments(&f.app, f.acme(), again.as_bytes(), false)
        .await
        .unwrap();
    assert_eq!((done.recorded, done.already_recorded), (1, 3));
    assert_eq!(done.payments[0].status, PaymentStatus::AlreadyRecorded);
    assert_eq!(f.paid(&ids[0]).await, 200_000);
    assert_eq!(f.paid(&ids[1]).await, 35_050);
    assert_eq!(f.payments().await, 4);

    // A recorded reference with another amount is a mistake, not a repeat.
    let changed = format!("device,amount,reference\n{},999,QK1\n", ids[0]);
    let e = rows_of(
        import_payments(&f.app, f.acme(), changed.as_bytes(), false)
            .await
            .unwrap_err(),
    );
    assert_eq!(e[0].1.as_deref(), Some("reference"));
    assert!(e[0].2.contains("another amount (1000.00 KES)"), "{e:?}");
}

#[tokio::test]
async fn unknown_and_other_lenders_devices_read_alike() {
    let f = fixture().await;
    let mine = f.sell(f.acme(), &[SALE]).await;
    let theirs = f
        .sell(
            Caller::lender(&f.other, None),
            &["O-1,,KES,7,3,1000,2026-02-01,month"],
        )
        .await;
    let text = format!(
        "device,amount,reference\n{},10,R1\ndev-nothing,10,R2\n{},10,R3\nO-1,10,R4\n",
        mine[0], theirs[0]
    );
    let e = rows_of(
        import_payments(&f.app, f.acme(), text.as_bytes(), false)
            .await
            .unwrap_err(),
    );
    assert_eq!(e.len(), 3);
    for (i, line) in [3, 4, 5].into_iter().enumerate() {
        assert_eq!(e[i].0, line);
        assert_eq!(e[i].2, Reason::UnknownDevice.english());
    }
    assert_eq!(f.payments().await, 0);
}

#[tokio::test]
async fn overpayment_over_several_rows_currency_and_released_devices_are_row_errors() {
    let f = fixture().await;
    let ids = f
        .sell(
            f.acme(),
            &[
                SALE,
                "C-2,,KES,7,1,10,2026-02-01,month",
                "C-3,,UGX,7,1,500,2026-02-01,month",
            ],
        )
        .await;
    // C-2 paid in full through the API, then released (a completing window of 0).
    queries::set_completing_window(&f.app.db.write, "lnd-acme", 0)
        .await
        .unwrap();
    let device = crate::devices::owned(&f.app, "lnd-acme", &ids[1])
        .await
        .unwrap();
    payments::record(
        &f.app,
        f.acme(),
        &device,
        "k1",
        &PaymentRequest {
            amount_minor: 1000,
            currency: "KES".into(),
            reference: "API-1".into(),
            allow_overpayment: false,
        },
    )
    .await
    .unwrap();
    let text = format!(
        "device,amount,reference,currency\n\
         {a},2000,R1,\n\
         {a},1000.01,R2,\n\
         {b},5,R3,\n\
         {c},500.5,R4,\n\
         {c},5,R5,KES\n\
         {a},5,R6,\n",
        a = ids[0],
        b = ids[1],
        c = ids[2]
    );
    let e = rows_of(
        import_payments(&f.app, f.acme(), text.as_bytes(), false)
            .await
            .unwrap_err(),
    );
    let got: Vec<(u64, &str)> = e
        .iter()
        .map(|(l, c, _)| (*l, c.as_deref().unwrap_or("")))
        .collect();
    // Row 4 (R3) on the released device; row 5 has decimals UGX has not; row 6 names
    // another currency. Those are found before anything is stored, so the overpayment
    // (rows 2 + 3 together exceed the 3000 owed) is only found once they are fixed.
    assert_eq!(got, vec![(5, "amount"), (6, "currency")], "{e:?}");
    assert!(e[0].2.contains("no decimals"));
    let text = format!(
        "device,amount,reference\n{a},2000,R1\n{a},1000.01,R2\n{b},5,R3\n{a},5,R6\n",
        a = ids[0],
        b = ids[1]
    );
    let e = rows_of(
        import_payments(&f.app, f.acme(), text.as_bytes(), false)
            .await
            .unwrap_err(),
    );
    let got: Vec<(u64, &str)> = e
        .iter()
        .map(|(l, c, _)| (*l, c.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(got, vec![(3, "amount"), (4, "device")], "{e:?}");
    assert!(
        e[0].2.contains("more than the 1000.00 KES still owed"),
        "{e:?}"
    );
    assert!(e[1].2.contains("released"), "{e:?}");
    assert_eq!(
        f.paid(&ids[0]).await,
        0,
        "row 2 was rolled back with the rest"
    );
    assert_eq!(f.payments().await, 1, "only the API's payment");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Any one bad row among good ones: nothing stored, and that row named.
    #[test]
    fn one_bad_row_among_good_ones_stores_nothing(
        good in 1usize..20,
        bad_at in 0usize..20,
        kind in 0usize..5,
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let f = fixture().await;
            let ids = f.sell(f.acme(), &[SALE]).await;
            let bad_at = bad_at % (good + 1);
            let mut text = String::from("device,amount,reference\n");
            for i in 0..=good {
                if i == bad_at {
                    let row = match kind {
                        0 => format!("{},-1,B{i}", ids[0]),
                        1 => format!("nobody,1,B{i}"),
                        2 => format!("{},1.001,B{i}", ids[0]),
                        3 => format!("{},1", ids[0]),
                        _ => format!("{},999999,B{i}", ids[0]),
                    };
                    text.push_str(&row);
                } else {
                    text.push_str(&format!("{},1,G{i}", ids[0]));
                }
                text.push('\n');
            }
            let e = rows_of(import_payments(&f.app, f.acme(), text.as_bytes(), false).await.unwrap_err());
            prop_assert_eq!(e.len(), 1, "{:?}", e);
            prop_assert_eq!(e[0].0, bad_at as u64 + 2);
            prop_assert_eq!(f.payments().await, 0);
            prop_assert_eq!(f.paid(&ids[0]).await, 0);
            Ok(())
        })?;
    }
}
