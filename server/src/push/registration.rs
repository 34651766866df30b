//! A device's `push_endpoint` as its enrollment or check-in states it (PROTOCOL §3.1,
//! §3.2): a URL sets it, `""` clears it, no member leaves it as it is.
//!
//! Read from the verified payload before anything is written, so a malformed value is a
//! 400 that changes nothing; stored after the request succeeded, and a failure to store
//! it never fails the enrollment or check-in (the phone's entitlement matters more than
//! its wake-ups). An endpoint the server's [`super::endpoint::Policy`] refuses (a private
//! address) is not an error for the phone: it is forgotten, and the phone keeps its
//! hourly schedule.

use finlock_core::protocol::{self, UrlPolicy};

use super::endpoint::{self, Registration};
use super::store;
use crate::app::App;
use crate::error::{Error, Result};

/// What a verified request's `push_endpoint` asks for: the protocol's rule (the core's
/// [`protocol::push_endpoint`], plain http to loopback let through for the policy to
/// judge) and the server's own reading ([`endpoint::read`]): the server does not trust
/// that the phone's core checked it.
pub fn asked(push_endpoint: Option<&str>) -> Result<Option<Registration>> {
    let Some(text) = push_endpoint else {
        return Ok(None);
    };
    protocol::push_endpoint(text, UrlPolicy::DEBUG)?;
    endpoint::read(text)
        .map(Some)
        .map_err(|rule| Error::invalid("push_endpoint", rule.to_string()))
}

/// Stores what the request asked for. `rebind`: a new key was just bound, so an endpoint
/// the old installation registered is forgotten unless the request names one.
pub async fn apply(app: &App, device_id: &str, asked: Option<Registration>, rebind: bool) {
    let done = match asked {
        None if rebind => store::clear(&app.db, device_id).await,
        None => Ok(()),
        Some(Registration::Clear) => store::clear(&app.db, device_id).await,
        Some(Registration::Set(url)) => match app.push.policy().check(&url) {
            Ok(()) => store::set(&app.db, device_id, &url, app.now()).await,
            Err(why) => {
                tracing::info!(%device_id, reason = %why, "push endpoint not used; the phone keeps its schedule");
                store::clear(&app.db, device_id).await
            }
        },
    };
    if let Err(e) = done {
        tracing::warn!(%device_id, error = %e, "storing the push endpoint failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_empty_and_set() {
        assert_eq!(asked(None).unwrap(), None);
        assert_eq!(asked(Some("")).unwrap(), Some(Registration::Clear));
        assert_eq!(
            asked(Some("https://push.example/x")).unwrap(),
            Some(Registration::Set("https://push.example/x".into()))
        );
        assert_eq!(
            asked(Some("http://127.0.0.1:9/push/x")).unwrap(),
            Some(Registration::Set("http://127.0.0.1:9/push/x".into()))
        );
    }

    #[test]
    fn what_breaks_the_protocol_is_an_invalid_field() {
        let long = format!("https://p.example/{}", "a".repeat(1100));
        for bad in [
            "ftp://push.example/x",
            "http://push.example/x",
            "https://u:p@push.example/x",
            "https://push.example/x#frag",
            "push.example",
            long.as_str(),
        ] {
            match asked(Some(bad)) {
                Err(Error::Invalid { field, .. }) => assert_eq!(field, "push_endpoint", "{bad}"),
                Err(Error::Protocol(e)) => assert_eq!(e.code(), "invalid_field", "{bad}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}
