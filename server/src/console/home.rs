//! `GET /console/`: the console's start page is the dashboard ([`super::dashboard`]), for
//! every role: the figures, with a welcome and the way to one's account (and, for an
//! owner, to staff and keys).

pub use super::dashboard::show;
