//! In-process consequences of an event beyond the lender's webhooks. Each committed
//! event is handed here once (by whichever node's worker takes it first), after the
//! commit, so what is done here can never undo or delay the change itself.

use super::events::EventKind;
use crate::app::App;

/// Hands one committed event to the hooks.
pub async fn dispatch(app: &App, lender_id: &str, device_id: &str, kind: &str) {
    if EventKind::parse(kind).is_some_and(EventKind::changes_entitlement) {
        entitlement_changed(app, lender_id, device_id).await;
    }
}

/// The device's entitlement changed (payment, void, extension, reschedule, lender lock
/// or unlock, completing, release, an overdue lock): its phone should check in now.
///
/// The hook for the wake-up push (issue 17 item 3, [`crate::push`]): queues an empty,
/// VAPID-signed Web Push to the device's registered endpoint; it returns at once, so a
/// slow push service never holds up the webhook deliveries.
pub async fn entitlement_changed(app: &App, lender_id: &str, device_id: &str) {
    let _ = lender_id;
    crate::push::nudge(app, device_id);
}
