//! The demo's second customer: the restricted level (PROTOCOL §3.7), which the first
//! customer's lender (it locks) does not sign.
//!
//! No shipped compliance profile has both a restricted step and a full lock; the ones with
//! a restricted step never lock. So a second lender, under India's RBI draft profile
//! (`in-rbi-draft`: the notice from 60 days past due, restricted from 90, never a full
//! lock; so a plan's grace of at least 90 days), sells a phone whose one installment goes
//! unpaid. The phone shows its notice page
//! at each unlock, is restricted — the restricted home with the apps that keep working —
//! and, once the lender records the payment, is back to normal at its next check-in.
//! Every event of this story carries `"customer": 2`.

use finlock_core::checkin::{Client, ClientConfig};
use finlock_core::decision::Level;
use finlock_core::device::{Device, EnrollParams};
use finlock_core::keys::KeySet;
use finlock_core::protocol::UrlPolicy;
use serde_json::{Value, json};

use super::{DAY, DemoError, Lender, Timeline, clock_at, money, screen};
use crate::clock::ManualClock;
use crate::lenders::NewLender;

const PROFILE: &str = "in-rbi-draft";
const PAYMENT_APP: &str = "net.one97.paytm";
const AMOUNT_MINOR: u64 = 1_500_000;
const CURRENCY: &str = "INR";
/// The most wake-ups the story takes (it needs a few hundred).
const MAX_STEPS: usize = 5_000;

/// An event of this story.
fn say(tl: &mut Timeline, t: i64, kind: &str, text: String, extra: Value) {
    let mut extra = extra;
    if let Value::Object(o) = &mut extra {
        o.insert("customer".into(), json!(2));
    }
    tl.say(t, kind, text, extra);
}

/// Lives the second customer's story from `t0`; returns when the phone is back to normal
/// (the server's clock then).
pub async fn live(
    tl: &mut Timeline,
    server: &crate::ServerHandle,
    server_clock: &ManualClock,
    dir: &std::path::Path,
    tz: &str,
    t0: i64,
) -> Result<i64, DemoError> {
    tl.note("\nMeanwhile, a second customer, of a lender under India's RBI draft (restrictions, never a full lock):\n");
    server_clock.set(t0);
    let base = server.url();
    let created = server
        .create_lender(&NewLender {
            name: "Bharat Finance".into(),
            phone: "+911800000111".into(),
            email: None,
            payment_url: "https://pay.bharat-finance.example/p".into(),
            support_url: None,
        })
        .await?;
    let lender = Lender::new(&base, &created.api_key)?;
    lender
        .call(
            reqwest::Method::PUT,
            "/v1/lender/compliance",
            json!({ "profile": PROFILE, "payment_apps": [PAYMENT_APP] }),
            None,
        )
        .await?;
    let due = t0 + 30 * DAY;
    let registered = lender
        .call(
            reqwest::Method::POST,
            "/v1/lender/devices",
            json!({ "customer_ref": "BF-7", "plan": { "currency": CURRENCY, "grace_days": 90,
                    "installments": [{ "due": due, "amount_minor": AMOUNT_MINOR }] } }),
            None,
        )
        .await?;
    let device_id = registered["device_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut device = Device::open(dir.join("device-2"))?;
    let keys = KeySet::from_jwks(&created.jwks)?;
    device.update(|s| s.provision(&base, keys, true))?;
    let client = Client::new(&base, UrlPolicy::DEBUG, &ClientConfig::default())?;
    let params = EnrollParams {
        enrollment_code: registered["enrollment_code"].as_str().map(str::to_string),
        imei: None,
        serial: None,
        model: "finlock demo phone 2".into(),
        android_sdk: 34,
        app_version: super::super::device::APP_VERSION.into(),
    };
    client.enroll(&mut device, &params, || clock_at(t0)).await?;
    say(
        tl,
        t0,
        "sale",
        format!(
            "Bharat Finance ({PROFILE} profile, payment app {PAYMENT_APP}) sells a phone; one \
             installment of {} due {} goes unpaid",
            money(AMOUNT_MINOR, CURRENCY),
            tl.local(due)
        ),
        json!({ "device_id": device_id, "profile": PROFILE }),
    );

    let mut t = t0;
    let mut was = Level::Normal;
    let mut paid_at: Option<i64> = None;
    for _ in 0..MAX_STEPS {
        let reading = device.evaluate(&clock_at(t))?.reading;
        let wake = device
            .state()
            .next_wakeup(tz, &reading)?
            .map(|w| w.at)
            .ok_or_else(|| DemoError::Story("the second phone has nothing to wake for".into()))?;
        t = wake.max(t + 1);
        server_clock.set(t);
        let now = device.evaluate(&clock_at(t))?.reading.now();
        if device.state().checkin.next_at <= now {
            // A failed check-in is retried at the phone's next wake-up.
            let _ = client
                .check_in(
                    &mut device,
                    || clock_at(t),
                    super::super::device::APP_VERSION,
                    false,
                )
                .await;
        }
        let eval = device.evaluate(&clock_at(t))?;
        let level = eval.decision.level;
        if level != was {
            let described = super::super::device::describe(&eval.decision);
            match level {
                Level::Notice => {
                    say(
                        tl,
                        t,
                        "NOTICE",
                        format!("{described}: the notice page now shows at each screen unlock"),
                        json!({ "level": "notice" }),
                    );
                    screen(tl, "notice_page", &device, &eval, tz)?;
                }
                Level::Restricted => {
                    say(
                        tl,
                        t,
                        "RESTRICTED",
                        format!(
                            "{described}: calls, messages, emergency, the payment app and the \
                             essentials work; other apps wait"
                        ),
                        json!({ "level": "restricted" }),
                    );
                    screen(tl, "restricted_home", &device, &eval, tz)?;
                }
                Level::Locked => {
                    return Err(DemoError::Story(
                        "the RBI draft profile's phone locked in full".into(),
                    ));
                }
                Level::Normal => {
                    let waited = paid_at.map_or(0, |p| (t - p) / 60);
                    say(
                        tl,
                        t,
                        "unlocked",
                        format!(
                            "the phone checks in and is back to normal, {waited} min after the \
                             payment (its hourly check-in while restricted; no push set up here)"
                        ),
                        json!({ "level": "normal", "after_payment_min": waited }),
                    );
                    return Ok(t);
                }
            }
            was = level;
        }
        if matches!(level, Level::Notice | Level::Restricted) {
            device.notice_shown(&clock_at(t))?;
        }
        // A day into the restriction, the customer pays at the lender's office.
        if level == Level::Restricted && paid_at.is_none() {
            let pay_at = t + DAY;
            t = pay_at;
            server_clock.set(t);
            lender
                .call(
                    reqwest::Method::POST,
                    &format!("/v1/lender/devices/{device_id}/payments"),
                    json!({ "amount_minor": AMOUNT_MINOR, "currency": CURRENCY,
                            "reference": "BF-CASH-1" }),
                    Some("bf-cash-1"),
                )
                .await?;
            paid_at = Some(t);
            say(
                tl,
                t,
                "paid",
                format!(
                    "the customer pays {} at the lender's office; the lender records it",
                    money(AMOUNT_MINOR, CURRENCY)
                ),
                json!({}),
            );
        }
    }
    Err(DemoError::Story(
        "the second phone did not get through its ladder".into(),
    ))
}
