//! `/openapi.json`, generated from the handlers' annotations and the request and
//! response types (utoipa), so the document cannot drift from the code it describes.
//! A test checks it lists exactly the routes the router serves.

use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};

use crate::error::Problem;

/// The problems the lender API answers with.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum LenderProblems {
    /// The request is not what the endpoint reads (syntax, a missing header).
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(Problem),
    /// A valid API key is required.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// No such device of this lender.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    /// The request conflicts with the device's state.
    #[response(status = 409, content_type = "application/problem+json")]
    Conflict(Problem),
    /// Over 16 KiB.
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(Problem),
    /// A field breaks a rule (`invalid-field`; `detail` names it), or the lender's
    /// compliance profile forbids the plan or action (`compliance`; `rule` is the
    /// profile's rule id, e.g. `restricted.min_days_past_due`, and `detail` names the
    /// profile; docs/COMPLIANCE.md).
    #[response(status = 422, content_type = "application/problem+json")]
    Invalid(Problem),
    /// A server fault (a correlation id, nothing internal).
    #[response(status = 500, content_type = "application/problem+json")]
    Internal(Problem),
}

/// The problems of a lender endpoint that reads no body (a GET, or an action without
/// one): the same as [`LenderProblems`] but 413, which only reading a body can answer.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum LenderNoBodyProblems {
    /// A query parameter that does not fit.
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(Problem),
    /// A valid API key is required.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// No such device of this lender.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    /// The request conflicts with the device's state.
    #[response(status = 409, content_type = "application/problem+json")]
    Conflict(Problem),
    /// A parameter breaks a rule; `detail` names it.
    #[response(status = 422, content_type = "application/problem+json")]
    Invalid(Problem),
    /// A server fault (a correlation id, nothing internal).
    #[response(status = 500, content_type = "application/problem+json")]
    Internal(Problem),
}

/// The problems the device API answers with.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum DeviceProblems {
    /// Malformed protocol message.
    #[response(status = 400, content_type = "application/problem+json")]
    Malformed(Problem),
    /// The signature does not verify, or no such device or key.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthenticated(Problem),
    /// Replayed or stale message, or the device's state forbids it.
    #[response(status = 409, content_type = "application/problem+json")]
    Conflict(Problem),
    /// Over 16 KiB.
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(Problem),
    /// A field breaks a protocol rule (`rule` names it).
    #[response(status = 422, content_type = "application/problem+json")]
    Invalid(Problem),
    /// Check-ins more often than the per-device limit (`Retry-After`).
    #[response(status = 429, content_type = "application/problem+json")]
    RateLimited(Problem),
    /// A server fault.
    #[response(status = 500, content_type = "application/problem+json")]
    Internal(Problem),
}

/// The problems of the operations routes.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum OpsProblems {
    /// The database does not answer.
    #[response(status = 500, content_type = "application/problem+json")]
    Internal(Problem),
}

/// A lender's reminder policy (PROTOCOL §3.3), the core's `ReminderPolicy` described here:
/// every field is required when `reminders` is sent.
#[derive(ToSchema)]
#[schema(as = ReminderPolicy)]
#[allow(dead_code)]
pub struct ReminderPolicyDoc {
    /// Seconds before a due date at which an `upcoming` reminder fires (at most 32, each
    /// at most 366 days either way).
    #[schema(max_items = 32)]
    pub offsets_s: Vec<i64>,
    /// The local hour reminders are shown at, 0–23.
    #[schema(maximum = 23)]
    pub hour_local: u8,
    /// Start of the quiet hours, `HH:MM`.
    #[schema(pattern = "^[0-2][0-9]:[0-5][0-9]$")]
    pub quiet_start: String,
    /// End of the quiet hours, `HH:MM`.
    #[schema(pattern = "^[0-2][0-9]:[0-5][0-9]$")]
    pub quiet_end: String,
    /// Seconds between repeated overdue reminders: 0 (none) or 3,600 to 90 days.
    #[schema(maximum = 7_776_000)]
    pub overdue_every_s: u64,
}

/// `POST /v1/enroll` answer (PROTOCOL §3.1); the core's type, described here.
#[derive(Serialize, ToSchema)]
#[schema(as = EnrollResponse)]
pub struct EnrollAnswer {
    pub device_id: String,
    /// The first entitlement, a compact JWS.
    pub entitlement: String,
    /// The offline-code secret, base64url (32 bytes).
    pub offline_secret: String,
    /// The lender's key sets after the request's `keys_seq`, oldest first
    /// (`finlock-keys+jws`, PROTOCOL §3.4); absent when the device is up to date.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
    /// The server's Web Push (VAPID, RFC 8292) public key: base64url without padding of
    /// the 65-byte uncompressed P-256 point. The phone registers with its push
    /// distributor under this key; the request's optional `push_endpoint` (an `https://`
    /// URL of at most 1024 bytes, `""` to forget it) is where the server sends an empty
    /// wake-up push when the entitlement changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push_key: Option<String>,
}

/// `POST /v1/checkin` answer (PROTOCOL §3.2).
#[derive(Serialize, ToSchema)]
#[schema(as = CheckinResponse)]
pub struct CheckinAnswer {
    /// A fresh entitlement, a compact JWS.
    pub entitlement: String,
    /// The lender's key sets after the request's `keys_seq`, oldest first
    /// (`finlock-keys+jws`, PROTOCOL §3.4); absent when the device is up to date.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
    /// The server's Web Push (VAPID) public key, as in the enrollment answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push_key: Option<String>,
}

struct BearerKey;

impl Modify for BearerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "apiKey",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "finlock lender server",
        description = "Device API (PROTOCOL.md §3) and lender API. Plain HTTP: deploy behind a TLS-terminating reverse proxy. Every error is application/problem+json (RFC 9457) with type urn:finlock:problem:<code>.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    paths(
        super::ops::healthz,
        super::ops::readyz,
        super::ops::metrics,
        super::ops::openapi,
        super::device_api::enroll_challenge,
        super::device_api::enroll,
        super::device_api::check_in,
        super::devices::create,
        super::devices::list,
        super::dashboard::show,
        super::imports::sales,
        super::imports::payments,
        super::devices::one,
        super::devices::audit_log,
        super::devices::provisioning_qr,
        super::devices::reissue_code,
        super::devices::update,
        super::devices::cancel,
        super::payments::record,
        super::payments::list,
        super::payments::void,
        super::payments::window,
        super::payments::set_window,
        super::actions::lock,
        super::actions::unlock,
        super::actions::release,
        super::actions::extend,
        super::actions::offline_code,
        super::api_keys::list,
        super::api_keys::create,
        super::api_keys::rotate,
        super::api_keys::revoke,
        super::keys::list,
        super::keys::rotate,
        super::keys::retire,
        super::approvals::list,
        super::approvals::approve,
        super::approvals::refuse,
        super::webhooks::list,
        super::webhooks::create,
        super::webhooks::rotate,
        super::webhooks::delete,
        super::webhooks::deliveries,
        super::webhooks::redeliver,
        super::webhooks::settings,
        super::webhooks::set_settings,
        super::payment_notifications::standard,
        super::payment_notifications::mpesa_c2b,
        super::payment_notifications::list,
        super::payment_notifications::assign,
        super::payment_notifications::list_secrets,
        super::payment_notifications::rotate_secret,
        super::payment_notifications::rotate_mpesa_token,
        super::compliance::profiles,
        super::compliance::show,
        super::compliance::set,
    ),
    components(schemas(Problem)),
    modifiers(&BearerKey),
    tags(
        (name = "device", description = "What phones call (PROTOCOL.md §3)"),
        (name = "lender", description = "What lenders call, with their API key"),
        (name = "ops", description = "Operations"),
        (name = "notify", description = "What payment providers call: payment notifications, authenticated by the lender's notification secret"),
    )
)]
struct ApiDoc;

/// The OpenAPI 3.1 document.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    fn doc() -> Value {
        serde_json::to_value(super::document()).unwrap()
    }

    /// Found by schemathesis: `reminders` was documented as any object, and a
    /// registration with `"reminders": {}` was answered 400 (`reminders.offsets_s: is
    /// required`) although it matched the document.
    /// utoipa keeps one schema per name and silently drops the other: two types named alike
    /// (a compliance profile's `Source` and a payment notification's) documented the
    /// profiles' sources as the notification's enum, which api-fuzz caught as a 200 that
    /// broke its own schema.
    #[test]
    fn types_named_alike_keep_their_own_schemas() {
        let doc = doc();
        let schemas = &doc["components"]["schemas"];
        let source = &schemas["Source"];
        assert!(
            source.to_string().contains("mpesa"),
            "the payment notification's source: {source}"
        );
        let compliance = &schemas["ComplianceSource"];
        assert_eq!(compliance["type"], "object", "{compliance}");
        for field in ["title", "date", "reference", "status"] {
            assert!(compliance["properties"][field].is_object(), "{field}");
        }
        assert!(
            doc.to_string()
                .contains("#/components/schemas/ComplianceSource"),
            "the profiles refer to it"
        );
    }

    #[test]
    fn the_reminder_policy_is_documented_field_for_field() {
        let doc = doc();
        let schemas = &doc["components"]["schemas"];
        let reminders = &schemas["Registration"]["properties"]["reminders"];
        let text = reminders.to_string();
        assert!(
            text.contains("#/components/schemas/ReminderPolicy"),
            "{reminders}"
        );
        let policy = &schemas["ReminderPolicy"];
        let mut required: Vec<&str> = policy["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        required.sort_unstable();
        // The core's own type, serialized: exactly the documented fields.
        let served = serde_json::to_value(crate::policy::default_reminders()).unwrap();
        let mut fields: Vec<&str> = served
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        fields.sort_unstable();
        assert_eq!(required, fields);
        let documented: Vec<&String> = policy["properties"].as_object().unwrap().keys().collect();
        assert_eq!(documented.len(), fields.len());
    }

    /// Found by schemathesis: empty texts the server refuses (422: 1–N characters) and
    /// due dates outside 2000–2099 were documented as acceptable.
    #[test]
    fn the_lengths_and_ranges_the_server_enforces_are_documented() {
        let doc = doc();
        let schemas = &doc["components"]["schemas"];
        for (schema, field) in [
            ("LockRequest", "reason"),
            ("ExtensionRequest", "reason"),
            ("CreateKey", "name"),
            ("PaymentRequest", "reference"),
            ("VoidRequest", "reason"),
            ("Cancellation", "reason"),
            ("RetireKey", "kid"),
        ] {
            let p = &schemas[schema]["properties"][field];
            assert_eq!(p["minLength"], 1, "{schema}.{field}: {p}");
            assert!(p["maxLength"].is_u64(), "{schema}.{field}: {p}");
        }
        let due = &schemas["PlanInstallment"]["properties"]["due"];
        assert_eq!(due["minimum"], 946_684_800_i64, "{due}");
        assert_eq!(due["maximum"], 4_102_444_799_i64, "{due}");
    }

    /// Found with schemathesis' record of the statuses served: 413 was documented on
    /// routes that never read a body, where nothing can answer it.
    #[test]
    fn only_routes_that_read_a_body_document_413() {
        let doc = doc();
        let mut with_body = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let reads_body = op.get("requestBody").is_some();
                let has_413 = op["responses"].get("413").is_some();
                assert_eq!(reads_body, has_413, "{method} {path}");
                with_body += usize::from(reads_body);
            }
        }
        assert!(with_body >= 10, "{with_body}");
    }
}
