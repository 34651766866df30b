//! `/console/staff`: the lender's staff and API keys, for owners only (anyone else gets the
//! console's 403 page, and the domain operations refuse them again).
//!
//! Staff: invite (the link is shown once), change a role, disable and enable, reset a
//! password (a new link, shown once), a new invitation link for someone who never set a
//! password, end someone's sessions, turn off a lost phone's second factor. API keys: list,
//! create (the secret is shown once), revoke. Every change goes through [`crate::staff`] or
//! [`crate::api_keys`] naming the staff member (`staff:<id>`) who made it.
//!
//! A simple change goes back to the page with `?done=<what>` (a closed list), so a reload
//! sends nothing twice; a link or a secret is shown in the answer to its form only. An id
//! of another lender's staff or key in a URL is the console's 404, like a missing one.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::account::{breakable, role_id};
use super::auth::{NoFields, StaffAuth, StaffForm, percent_encode};
use super::page::{self, Chrome, Section};
use crate::api_keys::{self, ApiKey};
use crate::app::App as AppState;
use crate::cli::when::iso_utc;
use crate::error::Error;
use crate::staff::{self, Permission, Role, StaffError, StaffRow, StaffStatus};

/// The staff and API keys page.
pub const PATH: &str = "/console/staff";

/// What `?done=` may announce.
const NOTICES: [&str; 7] = [
    "staff-done-role",
    "staff-done-disabled",
    "staff-done-enabled",
    "staff-done-sessions",
    "staff-done-totp-off",
    "keys-done-revoked",
    "staff-done-nothing",
];

/// One member of staff as the page lists them.
pub struct MemberView {
    pub staff_id: String,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub role_id: &'static str,
    /// Message id of the status (invited, active, disabled).
    pub status_id: &'static str,
    pub status: StaffStatus,
    pub totp_enabled: bool,
    /// The signed-in owner themself (no disable, reset or end-sessions on oneself here).
    pub is_self: bool,
}

/// One API key as the page lists it.
pub struct KeyView {
    pub key_id: String,
    pub name: String,
    pub created_at: String,
    /// Who made it: a staff member's name, or `cli`, `key:…` as stored.
    pub created_by: String,
    pub revoked_at: Option<String>,
}

/// A link or secret shown once: (message id of the explanation, its text in pieces).
pub struct ShownOnce {
    pub text: String,
    pub value: Vec<String>,
}

/// The page.
#[derive(Template)]
#[template(path = "console/staff.html")]
pub struct StaffPage {
    pub chrome: Chrome,
    pub members: Vec<MemberView>,
    pub keys: Vec<KeyView>,
    /// Whether the API key part is shown (owners: always).
    pub manage_keys: bool,
    pub roles: Vec<(&'static str, &'static str)>,
    pub notice_id: Option<&'static str>,
    pub error: Option<String>,
    pub once: Option<ShownOnce>,
    pub csrf: String,
}

impl StaffPage {
    /// The `id` attribute a member's controls use.
    pub fn dom_id(&self, prefix: &str, staff_id: &str) -> String {
        format!("{prefix}-{staff_id}")
    }
}

fn status_id(status: StaffStatus) -> &'static str {
    match status {
        StaffStatus::Invited => "staff-status-invited",
        StaffStatus::Active => "staff-status-active",
        StaffStatus::Disabled => "staff-status-disabled",
    }
}

/// `by` as a reader sees it: a staff member's name where one is named.
fn actor_name(by: &str, members: &[StaffRow]) -> String {
    by.strip_prefix("staff:")
        .and_then(|id| members.iter().find(|m| m.staff_id == id))
        .map_or_else(|| by.to_string(), |m| m.name.clone())
}

/// The page's data, read now; `Err` is the answer to give instead.
async fn page(
    st: &AppState,
    auth: &StaffAuth,
    status: StatusCode,
    notice_id: Option<&'static str>,
    error: Option<String>,
    once: Option<ShownOnce>,
) -> Response {
    let rows = match staff::list(&st.db, auth.by()).await {
        Ok(rows) => rows,
        Err(e) => return failed(auth, e),
    };
    let manage_keys = auth.may(Permission::ManageApiKeys);
    let keys: Vec<ApiKey> = if manage_keys {
        match api_keys::list(&st.db, &auth.session.lender.lender_id).await {
            Ok(keys) => keys,
            Err(e) => return failed(auth, e.into()),
        }
    } else {
        Vec::new()
    };
    let keys = keys
        .into_iter()
        .map(|k| KeyView {
            created_by: actor_name(&k.created_by, &rows),
            created_at: iso_utc(k.created_at),
            revoked_at: k.revoked_at.map(iso_utc),
            key_id: k.key_id,
            name: k.name,
        })
        .collect();
    let members = rows
        .iter()
        .map(|m| MemberView {
            staff_id: m.staff_id.clone(),
            name: m.name.clone(),
            email: m.email.clone(),
            role: m.role,
            role_id: role_id(m.role),
            status_id: status_id(m.status()),
            status: m.status(),
            totp_enabled: m.totp_enabled,
            is_self: m.staff_id == auth.session.staff.staff_id,
        })
        .collect();
    let page = StaffPage {
        chrome: auth.chrome("staff-title", PATH, Some(Section::StaffKeys)),
        members,
        keys,
        manage_keys,
        roles: Role::ALL
            .into_iter()
            .map(|r| (r.as_str(), role_id(r)))
            .collect(),
        notice_id,
        error,
        once,
        csrf: auth.csrf().to_string(),
    };
    page::render(status, &page)
}

/// The answer to a staff operation that failed: 404 for an id not of this lender, 403 for
/// a role that may not, the page with the reason for a refused change.
fn failed(auth: &StaffAuth, e: StaffError) -> Response {
    match e {
        StaffError::Forbidden { .. } => auth.not_allowed(),
        StaffError::Other(Error::NotFound) => auth.not_found(),
        other => {
            tracing::error!(error = %other, "console staff page failed");
            page::server_error(auth.lang)
        }
    }
}

/// The message id of a refusal the page explains, if it is one.
fn refusal_id(e: &StaffError) -> Option<&'static str> {
    match e {
        StaffError::Other(Error::Conflict { slug, .. }) => Some(match *slug {
            "last-owner" => "staff-error-last-owner",
            "email-taken" => "staff-error-email-taken",
            "own-password" => "staff-error-own-password",
            "not-active" => "staff-error-not-active",
            "not-invited" => "staff-error-not-invited",
            "last-key" => "keys-error-last-key",
            _ => "staff-error-conflict",
        }),
        StaffError::Other(Error::Invalid { field, .. }) => Some(if field == "email" {
            "staff-error-email"
        } else {
            "staff-error-name"
        }),
        _ => None,
    }
}

/// The page again with why `e` was refused, or [`failed`].
async fn refused(st: &AppState, auth: &StaffAuth, e: StaffError) -> Response {
    match refusal_id(&e) {
        Some(id) => {
            let status = if matches!(e, StaffError::Other(Error::Conflict { .. })) {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            page(st, auth, status, None, Some(auth.lang.tr(id)), None).await
        }
        None => failed(auth, e),
    }
}

fn done(notice: &str) -> Response {
    super::see_other(&format!("{PATH}?done={}", percent_encode(notice)))
}

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: String,
}

/// `GET /console/staff`
pub async fn show(
    State(st): State<AppState>,
    auth: StaffAuth,
    done: Result<Query<Done>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Err(refused) = auth.require(Permission::ManageStaff) {
        return refused;
    }
    let done = done.map(|q| q.0.done).unwrap_or_default();
    let notice = NOTICES.into_iter().find(|n| *n == done);
    page(&st, &auth, StatusCode::OK, notice, None, None).await
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
}

/// A link of this server's console for `token`.
fn link(st: &AppState, token: &str) -> String {
    staff::invitations::link(&st.public_url, token)
}

/// The text and link of an invitation, shown once.
fn shown_link(st: &AppState, auth: &StaffAuth, id: &str, invited: &staff::Invited) -> ShownOnce {
    ShownOnce {
        text: auth.lang.tr_args(
            id,
            &[
                ("name", &invited.staff.name),
                ("date", &iso_utc(invited.expires_at)),
            ],
        ),
        value: breakable(&link(st, &invited.token)),
    }
}

/// `POST /console/staff/invite`
pub async fn invite(State(st): State<AppState>, form: StaffForm<InviteForm>) -> Response {
    let StaffForm { auth, form } = form;
    if let Err(refused) = auth.require(Permission::ManageStaff) {
        return refused;
    }
    let Some(role) = Role::parse(&form.role) else {
        return page::bad_request(auth.lang);
    };
    let new = staff::NewStaff {
        email: &form.email,
        name: &form.name,
        role,
    };
    match staff::invite(&st.db, auth.by(), &new, st.now()).await {
        Ok(invited) => {
            let once = shown_link(&st, &auth, "staff-link-invited", &invited);
            page(&st, &auth, StatusCode::OK, None, None, Some(once)).await
        }
        Err(e) => refused(&st, &auth, e).await,
    }
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

/// `POST /console/staff/{id}/role`
pub async fn change_role(
    State(st): State<AppState>,
    Path(id): Path<String>,
    form: StaffForm<RoleForm>,
) -> Response {
    let StaffForm { auth, form } = form;
    if let Err(refused) = auth.require(Permission::ManageStaff) {
        return refused;
    }
    let Some(role) = Role::parse(&form.role) else {
        return page::bad_request(auth.lang);
    };
    match staff::change_role(&st.db, auth.by(), &id, role, st.now()).await {
        Ok(_) => done("staff-done-role"),
        Err(e) => refused(&st, &auth, e).await,
    }
}

/// What one of the single-button forms of a member does.
#[derive(Clone, Copy)]
enum MemberAction {
    Disable,
    Enable,
    EndSessions,
    TotpOff,
}

async fn member_action(
    st: AppState,
    id: String,
    form: StaffForm<NoFields>,
    action: MemberAction,
) -> Response {
    let auth = form.auth;
    if let Err(refused) = auth.require(Permission::ManageStaff) {
        return refused;
    }
    let now = st.now();
    let by = auth.by();
    let outcome = match action {
        MemberAction::Disable => staff::disable(&st.db, by, &id, now)
            .await
            .map(|_| "staff-done-disabled"),
        MemberAction::Enable => staff::enable(&st.db, by, &id, now)
            .await
            .map(|_| "staff-done-enabled"),
        MemberAction::EndSessions => staff::logout_everywhere(&st.db, by, &id, now)
            .await
            .map(|_| "staff-done-sessions"),
        MemberAction::TotpOff if id == auth.staff_id() => {
            // One's own needs a code: that is the account page's form.
            return super::see_other(super::account::PATH);
        }
        MemberAction::TotpOff => staff::disable_totp(&st.db, by, &id, None, now)
            .await
            .map(|_| "staff-done-totp-off"),
    };
    match outcome {
        Ok(notice) => done(notice),
        Err(e) => refused(&st, &auth, e).await,
    }
}

/// `POST /console/staff/{id}/disable`
pub async fn disable(
    State(st): State<AppState>,
    Path(id): Path<String>,
    form: StaffForm<NoFields>,
) -> Response {
    member_action(st, id, form, MemberAction::Disable).await
}

/// `POST /console/staff/{id}/enable`
pub async fn enable(
    State(st): State<AppState>,
    Path(id): Path<String>,
    form: StaffForm<NoFields>,
) -> Response {
    member_action(st, id, form, MemberAction::Enable).await
}

/// `POST /console/staff/{id}/logout-everywhere`
pub async fn end_sessions(
    State(st): State<AppState>,
    Path(id): Path<String>,
    form: StaffForm<NoFields>,
) -> Response {
    member_action(st, id, form, MemberAction::EndSessions).await
}

/// `POST /console/staff/{id}/totp-off`
pub async fn totp_off(
    State(st): State<AppState>,
    Path(id): Path<String>,
    form: StaffForm<NoFields>,
) -> Response {
    member_action(st, id, form, MemberAction::TotpOff).await
}

/// `POST /console/staff/{id}/reset-password`: the new link, shown once.
pub async fn reset_password(
    State(st): State<AppState>,
    Path(id): Path<String>,
    form: StaffForm<NoFields>,
) -> Response {
    let auth = form.auth;
    if let Err(refused) = auth.require(Permission::ManageStaff) {
        return refused;
    }
    match staff::reset_password(&st.db, auth.by(), &id, st.now()).await {
        Ok(invited) => {
            let once = shown_link(&st, &auth, "staff-link-reset", &invited);
            page(&st, &auth, StatusCode::OK, None, None, Some(once)).await
        }
        Err(e) => refused(&st, &auth, e).await,
    }
}

/// `POST /console/staff/{id}/reinvite`: a new invitation link, shown once.
pub async fn reinvite(
    State(st): State<AppState>,
    Path(id): Path<String>,
    form: StaffForm<NoFields>,
) -> Response {
    let auth = form.auth;
    if let Err(refused) = auth.require(Permission::ManageStaff) {
        return refused;
    }
    match staff::reinvite(&st.db, auth.by(), &id, st.now()).await {
        Ok(invited) => {
            let once = shown_link(&st, &auth, "staff-link-invited", &invited);
            page(&st, &auth, StatusCode::OK, None, None, Some(once)).await
        }
        Err(e) => refused(&st, &auth, e).await,
    }
}

#[derive(Deserialize)]
pub struct KeyForm {
    #[serde(default)]
    name: String,
}

/// The actor string of API-key changes made from the console.
fn key_actor(auth: &StaffAuth) -> String {
    format!("staff:{}", auth.staff_id())
}

/// `POST /console/staff/keys`: a new key, its secret shown once.
pub async fn create_key(State(st): State<AppState>, form: StaffForm<KeyForm>) -> Response {
    let StaffForm { auth, form } = form;
    if let Err(refused) = auth.require(Permission::ManageApiKeys) {
        return refused;
    }
    let lender_id = auth.session.lender.lender_id.clone();
    match api_keys::create(&st.db, &lender_id, &form.name, &key_actor(&auth), st.now()).await {
        Ok(key) => {
            let once = ShownOnce {
                text: auth
                    .lang
                    .tr_args("keys-secret-once", &[("name", &key.name)]),
                value: breakable(&key.api_key),
            };
            page(&st, &auth, StatusCode::OK, None, None, Some(once)).await
        }
        Err(Error::Invalid { .. }) => {
            let text = auth.lang.tr("keys-error-name");
            page(
                &st,
                &auth,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(text),
                None,
            )
            .await
        }
        Err(e) => refused(&st, &auth, e.into()).await,
    }
}

/// `POST /console/staff/keys/{id}/revoke`
pub async fn revoke_key(
    State(st): State<AppState>,
    Path(id): Path<String>,
    form: StaffForm<NoFields>,
) -> Response {
    let auth = form.auth;
    if let Err(refused) = auth.require(Permission::ManageApiKeys) {
        return refused;
    }
    let lender_id = auth.session.lender.lender_id.clone();
    match api_keys::revoke(&st.db, &lender_id, &id, &key_actor(&auth), st.now()).await {
        Ok(_) => done("keys-done-revoked"),
        Err(e) => refused(&st, &auth, e.into()).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_staff_actor_is_shown_by_name_anything_else_as_stored() {
        let row = StaffRow {
            staff_id: "stf-1".into(),
            lender_id: "lnd-1".into(),
            email: "ann@shop.example".into(),
            name: "Ann".into(),
            role: Role::Owner,
            has_password: true,
            totp_enabled: false,
            created_at: 0,
            created_by: "cli:lnd-1".into(),
            disabled_at: None,
        };
        let rows = [row];
        assert_eq!(actor_name("staff:stf-1", &rows), "Ann");
        assert_eq!(actor_name("staff:stf-2", &rows), "staff:stf-2");
        assert_eq!(actor_name("cli", &rows), "cli");
        assert_eq!(actor_name("key:key-1", &rows), "key:key-1");
    }

    #[test]
    fn refusals_the_page_explains() {
        let conflict = |slug| StaffError::Other(Error::conflict(slug, "x"));
        assert_eq!(
            refusal_id(&conflict("last-owner")),
            Some("staff-error-last-owner")
        );
        assert_eq!(
            refusal_id(&conflict("last-key")),
            Some("keys-error-last-key")
        );
        assert_eq!(
            refusal_id(&StaffError::Other(Error::invalid("email", "x"))),
            Some("staff-error-email")
        );
        assert_eq!(refusal_id(&StaffError::Other(Error::NotFound)), None);
        assert_eq!(refusal_id(&StaffError::BadCredentials), None);
    }
}
