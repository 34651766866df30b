//! The lender console over plain HTTP, for the console's tests: a browser stand-in
//! ([`Agent`]) that keeps the cookies a real `finlock serve` sets, signs in with a form's
//! own token, opens pages and posts forms (the session's token added), and the answer it
//! gets ([`Answer`]) with the few readings the tests make of a page (a hidden field, the
//! alert, an element's text, a cookie).
//!
//! It knows only the server's base URL, so it serves a `finlock serve` child (the console
//! tests) as well as an in-process server.

use std::collections::BTreeMap;
use std::sync::Mutex;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, HeaderMap, LOCATION, SET_COOKIE};

/// What a browser's form sends.
pub const FORM: &str = "application/x-www-form-urlencoded";

/// `application/x-www-form-urlencoded` of `pairs` (what a browser's form sends).
pub fn form_body(pairs: &[(&str, &str)]) -> String {
    let encode = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A plain-http client for loopback that follows no redirect (the tests read each one).
/// Our reqwest has rustls without a default crypto provider: ring's is installed first.
pub fn client() -> reqwest::Client {
    finlock_core::checkin::install_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a reqwest client")
}

/// One answer: status, where it redirects (empty if nowhere), headers, body.
pub struct Answer {
    pub status: StatusCode,
    pub location: String,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    /// The value of the hidden field `name` (of the first form that has one).
    pub fn hidden(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let at = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no field {name}: {}", self.body))
            + marker.len();
        self.body[at..at + self.body[at..].find('"').unwrap()].to_string()
    }

    /// The text of the page's alert (`<p class="error" role="alert" …>…</p>`), if any.
    pub fn alert(&self) -> Option<String> {
        let at = self.body.find("role=\"alert\"")?;
        let start = at + self.body[at..].find('>')? + 1;
        Some(self.body[start..start + self.body[start..].find("</p>")?].to_string())
    }

    /// The text of the element with `id`, up to its first tag, if the page has one.
    pub fn by_id(&self, id: &str) -> Option<String> {
        let at = self.body.find(&format!("id=\"{id}\""))?;
        let start = at + self.body[at..].find('>')? + 1;
        Some(self.body[start..start + self.body[start..].find('<')?].to_string())
    }

    /// The text of the element with `id`; panics (showing the page) if there is none.
    pub fn text_of(&self, id: &str) -> String {
        self.by_id(id)
            .unwrap_or_else(|| panic!("no #{id}: {}", self.body))
    }

    /// The `Set-Cookie` of the cookie `name`, if the answer sets it.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|c| c.starts_with(&format!("{name}=")))
    }

    /// Asserts the status, showing the page when it is another.
    pub fn expect(&self, status: StatusCode, what: &str) -> &Answer {
        assert_eq!(self.status, status, "{what}: {}", self.body);
        self
    }
}

/// A browser stand-in: keeps the cookies the server sets (and forgets those it clears) and
/// sends them back.
pub struct Agent {
    pub base: String,
    cookies: Mutex<BTreeMap<String, String>>,
}

impl Agent {
    /// A visitor without cookies on the server at `base` (`http://127.0.0.1:PORT`).
    pub fn new(base: &str) -> Agent {
        Agent {
            base: base.to_string(),
            cookies: Mutex::new(BTreeMap::new()),
        }
    }

    /// A visitor signed in as `email`; panics unless signing in worked.
    pub async fn signed_in(base: &str, email: &str, password: &str) -> Agent {
        let agent = Agent::new(base);
        agent.sign_in(email, password).await;
        agent
    }

    /// The `Cookie` header the agent sends.
    pub fn cookie_header(&self) -> String {
        let jar = self.cookies.lock().unwrap();
        jar.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The cookie `name` as the browser keeps it.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().get(name).cloned()
    }

    /// Sets the cookie `name` (as the language picker or another tab would).
    pub fn set(&self, name: &str, value: &str) {
        self.cookies
            .lock()
            .unwrap()
            .insert(name.to_string(), value.to_string());
    }

    async fn answer(&self, response: reqwest::Response) -> Answer {
        let status = response.status();
        let headers = response.headers().clone();
        for cookie in headers.get_all(SET_COOKIE) {
            let cookie = cookie.to_str().unwrap();
            let pair = cookie.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            let mut jar = self.cookies.lock().unwrap();
            if cookie.contains("Max-Age=0") {
                jar.remove(name);
            } else {
                jar.insert(name.to_string(), value.to_string());
            }
        }
        let location = headers
            .get(LOCATION)
            .map_or(String::new(), |v| v.to_str().unwrap().to_string());
        let body = response.text().await.unwrap();
        Answer {
            status,
            location,
            headers,
            body,
        }
    }

    /// `GET path` with the cookies.
    pub async fn get(&self, path: &str) -> Answer {
        let response = client()
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.answer(response).await
    }

    /// Posts the form `pairs` to `path` as they are (no token added).
    pub async fn post(&self, path: &str, pairs: &[(&str, &str)]) -> Answer {
        self.post_with(path, pairs, &[]).await
    }

    /// [`Agent::post`] with more request headers.
    pub async fn post_with(
        &self,
        path: &str,
        pairs: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut req = client()
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .header(CONTENT_TYPE, FORM)
            .body(form_body(pairs));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.answer(req.send().await.unwrap()).await
    }

    /// Posts the sign-in form with the token of a fresh sign-in page.
    pub async fn try_sign_in(&self, email: &str, password: &str, extra: &[(&str, &str)]) -> Answer {
        let page = self.get("/console/login").await;
        page.expect(StatusCode::OK, "the sign-in page");
        let csrf = page.hidden("csrf");
        let mut form = vec![("email", email), ("password", password), ("csrf", &csrf)];
        form.extend_from_slice(extra);
        self.post("/console/login", &form).await
    }

    /// Signs in; panics unless it worked (a redirect and a session cookie).
    pub async fn sign_in(&self, email: &str, password: &str) {
        let answer = self.try_sign_in(email, password, &[]).await;
        answer.expect(StatusCode::SEE_OTHER, "signing in");
        assert!(
            self.cookie("finlock_session").is_some(),
            "no session cookie"
        );
    }

    /// The session's form token, read from a signed-in page.
    pub async fn csrf(&self) -> String {
        let page = self.get("/console/account").await;
        page.expect(StatusCode::OK, "the account page");
        page.hidden("csrf")
    }

    /// Posts a form of a page with the session's token added.
    pub async fn send(&self, path: &str, pairs: &[(&str, &str)]) -> Answer {
        let csrf = self.csrf().await;
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(pairs);
        self.post(path, &all).await
    }
}
