//! Bulk import in a real headless Chromium against a real `finlock serve` (issue 16): a
//! sales CSV with one bad row, uploaded as a file, stores nothing and names the row
//! (line, column, reason); corrected, it registers every device and offers their codes
//! as a CSV download. The page: labelled controls, no sideways scroll at 360 px, no
//! Content-Security-Policy violation.

#![cfg(unix)]

#[path = "console_browser/harness.rs"]
#[allow(dead_code)]
mod harness;

use fantoccini::Locator;
use harness::{Server, Window, assert_page_is_sound, sign_in, with_browser};

const PASSWORD: &str = "correct horse battery staple";

/// A server with a lender and an agent: (server, lender id).
fn setup() -> (Server, String) {
    let server = Server::start();
    let lender = server.add_lender("Acme");
    server.add_staff(&lender, "agent@acme.example", "Amina", "agent", PASSWORD);
    (server, lender)
}

fn devices(server: &Server, lender: &str) -> usize {
    server.finlock_json(
        &["lender", "device", "list", "--lender", lender, "--json"],
        None,
    )["devices"]
        .as_array()
        .unwrap()
        .len()
}

/// The date `days` from now, `YYYY-MM-DD`.
fn days_from_now(days: i64) -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        + days * 86_400;
    jiff::Timestamp::from_second(t)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .to_string()
}

#[tokio::test]
async fn a_csv_with_one_bad_row_stores_nothing_and_names_the_row() {
    let (server, lender) = setup();
    let due = days_from_now(30);
    let header = "customer_ref,currency,grace_days,installments,amount,first_due,every";
    let bad = server.dir.path().join("sales-bad.csv");
    std::fs::write(
        &bad,
        format!(
            "{header}\r\nC-1,KES,7,6,1500.00,{due},month\r\nC-2,KES,7,6,1500.005,{due},month\r\nC-3,KES,7,6,1500,{due},month\r\n"
        ),
    )
    .unwrap();
    let good = server.dir.path().join("sales-good.csv");
    std::fs::write(
        &good,
        format!(
            "{header}\r\nC-1,KES,7,6,1500.00,{due},month\r\nC-2,KES,7,6,1500.50,{due},month\r\nC-3,KES,7,6,1500,{due},month\r\n"
        ),
    )
    .unwrap();
    let bad_path = bad.display().to_string();
    let good_path = good.display().to_string();
    let lender_id = lender.clone();
    with_browser(&server, Window::PHONE, |b| async move {
        sign_in(&b, "agent@acme.example", PASSWORD).await;

        b.open("/console/import").await;
        assert_page_is_sound(&b, "import form").await;
        b.client
            .find(Locator::Css("#import-file"))
            .await
            .unwrap()
            .send_keys(&bad_path)
            .await
            .unwrap();
        b.click_and_wait("#import-submit").await;
        let heading = b.text("#import-errors-heading").await;
        assert!(heading.contains("Errors in the file: 1"), "{heading}");
        let row = b.text("#import-errors tbody tr").await;
        assert!(row.contains('3'), "{row}");
        assert!(row.contains("amount"), "{row}");
        assert!(
            row.contains("Too many decimals: KES has at most 2."),
            "{row}"
        );
        assert!(
            b.text("#import-errors")
                .await
                .contains("Nothing was stored"),
            "the page says nothing was stored"
        );
        assert_page_is_sound(&b, "import errors").await;
    })
    .await;
    assert_eq!(
        devices(&server, &lender_id),
        0,
        "one bad row stores nothing"
    );

    with_browser(&server, Window::DESKTOP, |b| async move {
        sign_in(&b, "agent@acme.example", PASSWORD).await;
        b.open("/console/import").await;
        b.client
            .find(Locator::Css("#import-file"))
            .await
            .unwrap()
            .send_keys(&good_path)
            .await
            .unwrap();
        b.click_and_wait("#import-submit").await;
        let done = b.text("#import-done-heading").await;
        assert!(done.contains("3 devices registered"), "{done}");
        let href = b
            .js(
                "return document.getElementById('import-codes-download').getAttribute('href');",
                vec![],
            )
            .await;
        let href = href.as_str().unwrap();
        assert!(href.starts_with("data:text/csv"), "{href}");
        assert_eq!(href.matches("%0D%0A").count(), 4, "a header and 3 devices");
        assert_page_is_sound(&b, "import done").await;
    })
    .await;
    assert_eq!(devices(&server, &lender), 3);
}
