//! Payments in: payment providers notify the server directly, so a payment reaches the
//! phone's entitlement in seconds instead of waiting for the lender's own systems.
//!
//! Two endpoints per lender (HTTP in [`crate::http::payment_notifications`]):
//! - a generic one authenticated in the Standard Webhooks form ([`signature`]) with a
//!   documented JSON body ([`standard_body`]);
//! - M-Pesa's C2B confirmation callback ([`mpesa`]), which Safaricom does not sign:
//!   authenticated by a per-lender secret token in the callback URL.
//!
//! Each notification becomes a payment through the API's own operation, or is held for
//! the lender with its reason — never dropped ([`receive`]); the lender lists and assigns
//! held ones ([`held`]); secrets are per lender and rotate with an overlap ([`secrets`]).
//!
//! | module | what |
//! |---|---|
//! | [`signature`] | Standard Webhooks headers and HMAC-SHA256 verification (pure) |
//! | [`notice`] | a notification's facts and their rules (pure) |
//! | [`standard_body`] | the generic endpoint's JSON body (pure) |
//! | [`mpesa`] | M-Pesa's C2B confirmation body (pure) |
//! | [`matching`] | the device an account reference names |
//! | [`receive`] | a notification → a payment or a held notification |
//! | [`held`] | list notifications, assign a held one |
//! | [`secrets`] | per-lender secrets and M-Pesa URL tokens, rotation with overlap |
//! | [`store`] | the `payment_notifications` table |
//! | [`events`] | entries in the lender's own audit log |

pub mod events;
pub mod held;
pub mod matching;
pub mod mpesa;
pub mod notice;
pub mod receive;
pub mod secrets;
pub mod signature;
pub mod standard_body;
pub mod store;
