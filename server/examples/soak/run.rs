//! One soak run on one backend: set up the nodes, the lender and the phones; drive every
//! device for the run's time (a lender action, then a check-in, at the other node each
//! cycle); SIGKILL the last node at 40 % and start it again; burst the rate limits at
//! 60 %; then check what is stored against what was acknowledged.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use finlock_core::device::Outgoing;
use finlock_core::keys::{Jwks, KeySet};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::task::JoinSet;
use tokio::time::sleep_until;

use crate::client::{Client, Kind, Outcome, Sent};
use crate::cluster::Cluster;
use crate::phone::{Phone, now_ms};
use crate::report::{Report, Tally};
use crate::truth::{Account, DAY, Plan};

pub struct Setup {
    pub backend: &'static str,
    pub bin: PathBuf,
    /// `None`: a SQLite file in the run's directory.
    pub db: Option<String>,
    pub nodes: usize,
    pub seconds: u64,
    pub devices: usize,
    pub interval_s: u64,
}

/// Devices that also burst their check-ins at both nodes at once.
const BURST_DEVICES: usize = 20;
/// Check-ins per burst (half to each node).
const BURST_SIZE: usize = 6;
/// `finlock serve`'s default `--enroll-per-address`.
const ENROLL_PER_ADDRESS: u64 = 30;

/// A tiny xorshift: the soak's choices, no dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x % n.max(1)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum PayOutcome {
    Acked(String),
    Refused,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum VoidState {
    No,
    Acked,
    Unknown,
}

struct PaymentRec {
    reference: String,
    amount: u64,
    outcome: PayOutcome,
    void: VoidState,
}

struct Device {
    idx: usize,
    phone: Phone,
    plan: Plan,
    account: Account,
    /// An action whose outcome stayed unknown: the lock checks skip this device.
    uncertain: bool,
    payments: Vec<PaymentRec>,
    rng: Rng,
    t: Tally,
}

pub async fn run(s: &Setup) -> Result<Report, String> {
    let dir = tempfile::Builder::new()
        .prefix("finlock-soak-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    // Kept on failure, for the nodes' logs.
    let dir = dir.keep();
    let db =
        s.db.clone()
            .unwrap_or_else(|| format!("sqlite://{}", dir.join("soak.db").display()));
    let mut cluster = Cluster::new(&s.bin, &db, &dir, s.interval_s, s.nodes)?;
    let lender = cluster.add_lender()?;
    let api_key = lender["api_key"].as_str().ok_or("no api_key")?.to_string();
    let jwks: Jwks = serde_json::from_value(lender["jwks"].clone()).map_err(|e| e.to_string())?;
    let keys = KeySet::from_jwks(&jwks).map_err(|e| e.to_string())?;
    let client = Arc::new(Client::new(cluster.urls(), api_key).map_err(|e| e.to_string())?);
    for i in 0..s.nodes {
        cluster.start(i, &client.http).await?;
    }

    let setup = Instant::now();
    let plan = Plan::around(now_ms() / 1000);
    let mut devices = Vec::with_capacity(s.devices);
    let mut enrolling = JoinSet::new();
    for idx in 0..s.devices {
        let (client, keys, plan) = (client.clone(), keys.clone(), plan.clone());
        enrolling.spawn(async move { enroll(&client, keys, plan, idx).await });
        if enrolling.len() >= 16
            && let Some(done) = enrolling.join_next().await
        {
            devices.push(done.map_err(|e| e.to_string())??);
        }
    }
    while let Some(done) = enrolling.join_next().await {
        devices.push(done.map_err(|e| e.to_string())??);
    }
    let setup_s = setup.elapsed().as_secs_f64();
    let mut setup_stats = client.take_stats();

    let interval = Duration::from_secs(s.interval_s);
    let t0 = tokio::time::Instant::now();
    let run_for = Duration::from_secs(s.seconds);
    let end = t0 + run_for;
    let burst_at = t0 + run_for.mul_f64(0.6);
    let mut driving = JoinSet::new();
    for d in devices {
        let client = client.clone();
        driving.spawn(async move { drive(&client, d, end, burst_at, interval).await });
    }

    // SIGKILL the last node at 40 %: requests in flight on it are cut mid-way.
    sleep_until(t0 + run_for.mul_f64(0.4)).await;
    let victim = s.nodes - 1;
    cluster.kill(victim);
    let killed_at = t0.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(1)).await;
    cluster.start(victim, &client.http).await?;
    let down_s = t0.elapsed().as_secs_f64() - killed_at;

    sleep_until(burst_at).await;
    let mut tally = Tally::default();
    address_burst(&client, &keys, &mut tally).await?;

    let mut finished = Vec::new();
    while let Some(done) = driving.join_next().await {
        finished.push(done.map_err(|e| e.to_string())?);
    }
    let run_s = t0.elapsed().as_secs_f64();
    let mut stats = client.take_stats();
    // Enrollment was setup; the address burst's enrolls are the only ones of the run.
    for kind in [Kind::Register, Kind::Enroll] {
        if let Some(st) = setup_stats.remove(&kind) {
            stats.insert(kind, st);
        }
    }

    for d in &finished {
        verify(&client, d, s.interval_s, &mut tally).await?;
    }
    for d in finished {
        tally.merge(d.t);
    }
    drop(cluster);
    Ok(Report {
        backend: s.backend,
        nodes: s.nodes,
        devices: s.devices,
        interval_s: s.interval_s,
        setup_s,
        run_s,
        kill: (killed_at, down_s),
        stats,
        tally,
        logs: dir,
    })
}

/// Registers a device (lender API) and enrolls a phone for it (device API), at
/// alternating nodes, each phone from its own address.
async fn enroll(client: &Client, keys: KeySet, plan: Plan, idx: usize) -> Result<Device, String> {
    let registered = client
        .lender(
            Kind::Register,
            Method::POST,
            "/v1/lender/devices",
            Some(&json!({ "plan": plan.json() })),
            None,
            idx,
        )
        .await;
    let Outcome::Done {
        status: 201, body, ..
    } = registered
    else {
        return Err(format!("device {idx}: registration failed"));
    };
    let code = body["enrollment_code"]
        .as_str()
        .ok_or("no enrollment_code")?;
    let mut phone = Phone::provisioned(client.node(idx + 1), keys)?;
    let out = phone.enroll_body(code)?;
    let addr = format!(
        "10.{}.{}.{}",
        (idx >> 16) & 255,
        (idx >> 8) & 255,
        idx & 255
    );
    let req = client
        .http
        .post(format!("{}/v1/enroll", client.node(idx + 1)))
        .header("content-type", "application/jose")
        .header("x-forwarded-for", addr)
        .body(out.body);
    match client.send(Kind::Enroll, req).await {
        Sent::Answer {
            status: 200, body, ..
        } => phone.complete_enrollment(&body)?,
        Sent::Answer { status, body, .. } => {
            return Err(format!(
                "device {idx}: enroll {status}: {}",
                String::from_utf8_lossy(&body)
            ));
        }
        Sent::Transport => return Err(format!("device {idx}: enroll failed")),
    }
    Ok(Device {
        idx,
        phone,
        plan,
        account: Account::default(),
        uncertain: false,
        payments: Vec::new(),
        rng: Rng(0x9E37_79B9_7F4A_7C15 ^ (idx as u64 + 1).wrapping_mul(0x2545_F491_4F6C_DD1D)),
        t: Tally::default(),
    })
}

fn jitter(d: &mut Device) -> Duration {
    Duration::from_millis(100 + d.rng.below(300))
}

/// One device's loop: a lender action, then a check-in, until the end.
async fn drive(
    client: &Arc<Client>,
    mut d: Device,
    end: tokio::time::Instant,
    burst_at: tokio::time::Instant,
    interval: Duration,
) -> Device {
    // Spread over a whole cycle, so the load is even and a kill always meets requests.
    let cycle_ms = u64::try_from(interval.as_millis()).unwrap_or(2000) + 400;
    let mut next = tokio::time::Instant::now() + Duration::from_millis(d.rng.below(cycle_ms));
    let mut cycle = d.idx;
    let mut burst_done = d.idx >= BURST_DEVICES;
    loop {
        sleep_until(next).await;
        if tokio::time::Instant::now() >= end {
            break;
        }
        lender_action(client, &mut d, cycle).await;
        cycle += 1;
        let wait = if !burst_done && tokio::time::Instant::now() >= burst_at {
            burst_done = true;
            burst(client, &mut d).await
        } else {
            checkin(client, &mut d, cycle).await
        };
        next = tokio::time::Instant::now() + wait.unwrap_or(interval) + jitter(&mut d);
    }
    d
}

/// One check-in at node `cycle`; the same body again at the other node after a transport
/// error (answered 200, or 409 `replayed` when the first one landed). The wait before
/// the next one when it is not the interval (a 429's Retry-After).
async fn checkin(client: &Client, d: &mut Device, cycle: usize) -> Option<Duration> {
    let out = match d.phone.checkin_body() {
        Ok(out) => out,
        Err(e) => {
            d.t.unexpected += 1;
            d.t.note(format!("device {}: no check-in body: {e}", d.idx));
            return None;
        }
    };
    for attempt in 0..4usize {
        let req = client
            .http
            .post(format!("{}/v1/checkin", client.node(cycle + attempt)))
            .header("content-type", "application/jose")
            .body(out.body.clone());
        match client.send(Kind::Checkin, req).await {
            Sent::Transport => {
                tokio::time::sleep(Duration::from_millis(100 * attempt as u64)).await;
            }
            Sent::Answer {
                status: 200, body, ..
            } => {
                answered(d, &out, &body);
                return None;
            }
            Sent::Answer {
                status: 429,
                retry_after,
                ..
            } => return Some(Duration::from_secs(retry_after.unwrap_or(1))),
            Sent::Answer { status, body, .. } => {
                let code = serde_json::from_slice::<Value>(&body)
                    .map(|v| v["code"].as_str().unwrap_or("").to_string())
                    .unwrap_or_default();
                if attempt > 0 && status == 409 && code == "replayed" {
                    d.t.replays_after_loss += 1;
                } else {
                    d.t.unexpected += 1;
                    d.t.note(format!("device {}: check-in {status} {code}", d.idx));
                }
                return None;
            }
        }
    }
    None
}

/// A 200 answer: the core accepts it (or not), and its decision is judged.
fn answered(d: &mut Device, out: &Outgoing, body: &[u8]) {
    d.t.answers += 1;
    let before = d.phone.last_seq;
    match d.phone.accept(out, body) {
        Ok(accepted) => {
            if accepted.seq <= before {
                d.t.seq_back += 1;
            }
            if d.uncertain {
                return;
            }
            d.t.decisions += 1;
            d.t.locked_decisions += u64::from(accepted.lock_wanted);
            // The phone never locks before its notice has been on screen a day (§3.7): a
            // lock the account calls for is a lock wanted (held at the notice); any lock
            // or held lock it does not call for is a wrong one.
            let should = d.account.should_lock(&d.plan, now_ms() / 1000);
            if accepted.lock_wanted != should || (accepted.locked && !should) {
                if accepted.lock_wanted {
                    d.t.wrong_locks += 1;
                } else {
                    d.t.missed_locks += 1;
                }
                d.t.note(format!(
                    "device {} seq {}: lock wanted {} but the account says {} ({:?})",
                    d.idx, accepted.seq, accepted.lock_wanted, should, d.account
                ));
            }
        }
        Err(e) => {
            d.t.core_refused += 1;
            d.t.note(format!("device {}: {e}", d.idx));
        }
    }
}

/// `BURST_SIZE` check-ins of one device at once, half at each node: at most one may be
/// answered 200 (the per-device interval holds across nodes).
async fn burst(client: &Arc<Client>, d: &mut Device) -> Option<Duration> {
    d.t.bursts += 1;
    let mut outs = Vec::new();
    for _ in 0..BURST_SIZE {
        match d.phone.checkin_body() {
            Ok(out) => outs.push(out),
            Err(e) => {
                d.t.note(format!("device {}: no check-in body: {e}", d.idx));
                return None;
            }
        }
    }
    let mut sending = JoinSet::new();
    for (i, out) in outs.iter().enumerate() {
        let req = client
            .http
            .post(format!("{}/v1/checkin", client.node(i)))
            .header("content-type", "application/jose")
            .body(out.body.clone());
        let client = client.clone();
        sending.spawn(async move { (i, client.send(Kind::Checkin, req).await) });
    }
    let mut ok = Vec::new();
    let mut statuses = Vec::new();
    while let Some(Ok((i, sent))) = sending.join_next().await {
        match sent {
            Sent::Answer {
                status: 200, body, ..
            } => ok.push((i, body)),
            Sent::Answer { status, .. } => statuses.push(status),
            Sent::Transport => statuses.push(0),
        }
    }
    if ok.len() > 1 {
        d.t.burst_over += ok.len() as u64 - 1;
        d.t.note(format!(
            "device {}: {} of {BURST_SIZE} burst check-ins answered 200",
            d.idx,
            ok.len()
        ));
    }
    if ok.is_empty() {
        d.t.burst_none += 1;
        d.t.note(format!("device {}: burst answered {statuses:?}", d.idx));
    }
    for (i, body) in ok {
        answered(d, &outs[i], &body);
    }
    None
}

/// One lender action on the device, at the node the check-in does not use.
async fn lender_action(client: &Client, d: &mut Device, cycle: usize) {
    d.t.lender_ops += 1;
    let prefer = cycle + 1;
    match d.rng.below(100) {
        0..=44 => pay(client, d, prefer).await,
        45..=64 => void(client, d, prefer).await,
        65..=74 => lock(client, d, prefer).await,
        75..=84 => unlock(client, d, prefer).await,
        _ => extend(client, d, prefer).await,
    }
}

fn status_of(o: &Outcome) -> String {
    match o {
        Outcome::Done { status, body, .. } => {
            format!("{status} {}", body["code"].as_str().unwrap_or(""))
        }
        Outcome::Unknown => "unknown".into(),
    }
}

/// A payment with an Idempotency-Key, retried until a definite answer; one in eight is
/// also sent at once to the other node with the same key.
async fn pay(client: &Client, d: &mut Device, prefer: usize) {
    let n = d.payments.len() + 1;
    let key = format!("soak-{}-{n}", d.idx);
    let reference = format!("ref-{key}");
    let amount = [500, 1000, 1500][d.rng.below(3) as usize];
    let body = json!({ "amount_minor": amount, "currency": "KES", "reference": reference });
    let path = format!("/v1/lender/devices/{}/payments", d.phone.device_id);
    let race = client.nodes.len() > 1 && d.rng.below(8) == 0;
    let main = client.lender(
        Kind::Payment,
        Method::POST,
        &path,
        Some(&body),
        Some(&key),
        prefer,
    );
    let (main, raced) = if race {
        d.t.raced += 1;
        let other =
            client.lender_request(&Method::POST, prefer + 1, &path, Some(&body), Some(&key));
        let (main, other) = tokio::join!(main, client.send(Kind::Payment, other));
        let raced = match other {
            Sent::Answer { status, body, .. } if (200..300).contains(&status) => {
                serde_json::from_slice::<Value>(&body).ok()
            }
            _ => None,
        };
        (main, raced)
    } else {
        (main.await, None)
    };
    let acked = match (&main, &raced) {
        (Outcome::Done { status, body, .. }, _) if (200..300).contains(status) => {
            if let Some(r) = &raced
                && r["payment_id"] != body["payment_id"]
            {
                d.t.racing_answers_differ += 1;
                d.t.note(format!(
                    "device {}: key {key} answered {} and {}",
                    d.idx, body, r
                ));
            }
            Some(body.clone())
        }
        (_, Some(r)) => Some(r.clone()),
        _ => None,
    };
    let outcome = match (acked, &main) {
        (Some(answer), _) => {
            let expect = d.account.paid + amount;
            if !d.uncertain && answer["paid_minor"].as_u64() != Some(expect) {
                d.t.model_mismatch += 1;
                d.t.note(format!(
                    "device {}: payment answered {answer}, expected paid {expect}",
                    d.idx
                ));
            }
            d.account.pay(&d.plan, amount);
            PayOutcome::Acked(answer["payment_id"].as_str().unwrap_or("").to_string())
        }
        (None, Outcome::Done { status, body, .. }) => {
            d.t.refused += 1;
            // The one refusal the account explains: more than is owed.
            let explained = *status == 422 && amount > d.account.owed(&d.plan);
            if !d.uncertain && !explained {
                d.t.model_mismatch += 1;
                d.t.note(format!(
                    "device {}: payment of {amount} refused {status} {body}",
                    d.idx
                ));
            }
            PayOutcome::Refused
        }
        (None, Outcome::Unknown) => {
            d.uncertain = true;
            PayOutcome::Unknown
        }
    };
    d.payments.push(PaymentRec {
        reference,
        amount,
        outcome,
        void: VoidState::No,
    });
}

async fn void(client: &Client, d: &mut Device, prefer: usize) {
    let open: Vec<usize> = (0..d.payments.len())
        .filter(|&i| {
            matches!(d.payments[i].outcome, PayOutcome::Acked(_))
                && d.payments[i].void == VoidState::No
        })
        .collect();
    if open.is_empty() {
        return;
    }
    let i = open[d.rng.below(open.len() as u64) as usize];
    let PayOutcome::Acked(pid) = d.payments[i].outcome.clone() else {
        return;
    };
    let path = format!(
        "/v1/lender/devices/{}/payments/{pid}/void",
        d.phone.device_id
    );
    let body = json!({ "reason": "Soak: the transfer bounced" });
    let o = client
        .lender(Kind::Void, Method::POST, &path, Some(&body), None, prefer)
        .await;
    let amount = d.payments[i].amount;
    match &o {
        Outcome::Done {
            status: 200, body, ..
        } => {
            let expect = d.account.paid - amount;
            if !d.uncertain && body["paid_minor"].as_u64() != Some(expect) {
                d.t.model_mismatch += 1;
                d.t.note(format!(
                    "device {}: void answered {body}, expected paid {expect}",
                    d.idx
                ));
            }
            d.account.void(amount);
            d.payments[i].void = VoidState::Acked;
            d.t.voids_acked += 1;
        }
        Outcome::Done { .. } => {
            d.t.unexpected += 1;
            d.t.note(format!("device {}: void {}", d.idx, status_of(&o)));
        }
        Outcome::Unknown => {
            d.uncertain = true;
            d.payments[i].void = VoidState::Unknown;
        }
    }
}

async fn lock(client: &Client, d: &mut Device, prefer: usize) {
    let path = format!("/v1/lender/devices/{}/lock", d.phone.device_id);
    let body = json!({ "reason": "Soak: please call us about your account" });
    let o = client
        .lender(Kind::Lock, Method::POST, &path, Some(&body), None, prefer)
        .await;
    match &o {
        Outcome::Done { status: 200, .. } => d.account.lender_locked = true,
        Outcome::Done { .. } => {
            d.t.unexpected += 1;
            d.t.note(format!("device {}: lock {}", d.idx, status_of(&o)));
        }
        Outcome::Unknown => d.uncertain = true,
    }
}

async fn unlock(client: &Client, d: &mut Device, prefer: usize) {
    let path = format!("/v1/lender/devices/{}/unlock", d.phone.device_id);
    let o = client
        .lender(Kind::Unlock, Method::POST, &path, None, None, prefer)
        .await;
    match &o {
        Outcome::Done { status: 200, .. } => d.account.lender_locked = false,
        Outcome::Done {
            status: 409,
            body,
            ambiguous,
        } if body["code"] == "not-lender-locked" => {
            // After a lost answer the first try may have unlocked it.
            if d.account.lender_locked && !ambiguous && !d.uncertain {
                d.t.model_mismatch += 1;
                d.t.note(format!("device {}: unlock said not locked", d.idx));
            }
            d.account.lender_locked = false;
        }
        Outcome::Done { .. } => {
            d.t.unexpected += 1;
            d.t.note(format!("device {}: unlock {}", d.idx, status_of(&o)));
        }
        Outcome::Unknown => d.uncertain = true,
    }
}

/// A promise-to-pay extension, when the account allows one.
async fn extend(client: &Client, d: &mut Device, prefer: usize) {
    if d.account.lender_locked || d.account.completing(&d.plan) {
        return;
    }
    let now = now_ms() / 1000;
    let until = now + (1 + d.rng.below(60) as i64) * DAY + d.rng.below(DAY as u64) as i64;
    if until <= d.account.lock_at(&d.plan) {
        return;
    }
    let path = format!("/v1/lender/devices/{}/extension", d.phone.device_id);
    let body = json!({ "until": until, "reason": "Soak: promised to pay on Friday" });
    let o = client
        .lender(
            Kind::Extension,
            Method::POST,
            &path,
            Some(&body),
            None,
            prefer,
        )
        .await;
    match &o {
        Outcome::Done { status: 200, .. } => d.account.extended_until = Some(until),
        Outcome::Done {
            ambiguous: true, ..
        } => {
            // The first try may have landed: what is stored decides.
            let view = client
                .lender(
                    Kind::Read,
                    Method::GET,
                    &format!("/v1/lender/devices/{}", d.phone.device_id),
                    None,
                    None,
                    prefer,
                )
                .await;
            match view {
                Outcome::Done {
                    status: 200, body, ..
                } => d.account.extended_until = body["extended_until"].as_i64(),
                _ => d.uncertain = true,
            }
        }
        Outcome::Done { .. } => {
            d.t.unexpected += 1;
            d.t.note(format!("device {}: extension {}", d.idx, status_of(&o)));
        }
        Outcome::Unknown => d.uncertain = true,
    }
}

/// `ENROLL_PER_ADDRESS + 10` enroll attempts from one address, spread over the nodes at
/// once: at most the limit may get past it.
async fn address_burst(client: &Arc<Client>, keys: &KeySet, t: &mut Tally) -> Result<(), String> {
    // The limit counts per wall-clock minute: a burst that crosses into the next minute
    // may get the limit twice.
    let minute_before = (now_ms() / 1000).div_euclid(60);
    let mut phone = Phone::provisioned(client.node(0), keys.clone())?;
    let mut rng = Rng(now_ms() as u64 | 1);
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut sending = JoinSet::new();
    let sent = ENROLL_PER_ADDRESS + 10;
    for i in 0..sent {
        let code: String = (0..12)
            .map(|k| {
                let c = char::from(ALPHABET[rng.below(32) as usize]);
                if k > 0 && k % 4 == 0 {
                    format!("-{c}")
                } else {
                    c.to_string()
                }
            })
            .collect();
        let out = phone.enroll_body(&code)?;
        let req = client
            .http
            .post(format!("{}/v1/enroll", client.node(i as usize)))
            .header("content-type", "application/jose")
            .header("x-forwarded-for", "198.51.100.77")
            .body(out.body);
        let client = client.clone();
        sending.spawn(async move { client.send(Kind::Enroll, req).await });
    }
    let mut statuses: HashMap<u16, u64> = HashMap::new();
    while let Some(done) = sending.join_next().await {
        match done.map_err(|e| e.to_string())? {
            Sent::Answer { status, .. } => *statuses.entry(status).or_default() += 1,
            Sent::Transport => *statuses.entry(0).or_default() += 1,
        }
    }
    let windows = (now_ms() / 1000).div_euclid(60) - minute_before + 1;
    t.addr_sent = sent;
    t.addr_limit = ENROLL_PER_ADDRESS * u64::try_from(windows).unwrap_or(1);
    t.addr_limited = statuses.get(&429).copied().unwrap_or(0);
    t.addr_accepted = statuses
        .iter()
        .filter(|(s, _)| **s != 429 && **s != 0)
        .map(|(_, n)| n)
        .sum();
    if t.addr_accepted != t.addr_limit.min(sent) {
        t.note(format!("address burst answered {statuses:?}"));
    }
    Ok(())
}

/// What is stored for the device against what was acknowledged and answered.
async fn verify(client: &Client, d: &Device, interval_s: u64, t: &mut Tally) -> Result<(), String> {
    let id = &d.phone.device_id;
    let mut rows: Vec<Value> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/v1/lender/devices/{id}/payments?limit=500");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let Outcome::Done {
            status: 200, body, ..
        } = client
            .lender(Kind::Read, Method::GET, &path, None, None, 0)
            .await
        else {
            return Err(format!("device {}: payments could not be listed", d.idx));
        };
        rows.extend(body["payments"].as_array().cloned().unwrap_or_default());
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let Outcome::Done {
        status: 200,
        body: view,
        ..
    } = client
        .lender(
            Kind::Read,
            Method::GET,
            &format!("/v1/lender/devices/{id}"),
            None,
            None,
            0,
        )
        .await
    else {
        return Err(format!("device {}: not readable", d.idx));
    };
    let mut by_reference: HashMap<&str, Vec<&Value>> = HashMap::new();
    for row in &rows {
        by_reference
            .entry(row["reference"].as_str().unwrap_or(""))
            .or_default()
            .push(row);
    }
    let sent: HashSet<&str> = d.payments.iter().map(|p| p.reference.as_str()).collect();
    for row in &rows {
        if !sent.contains(row["reference"].as_str().unwrap_or("")) {
            t.phantom += 1;
            t.note(format!("device {}: stored but never sent: {row}", d.idx));
        }
    }
    for p in &d.payments {
        let stored = by_reference
            .get(p.reference.as_str())
            .cloned()
            .unwrap_or_default();
        match &p.outcome {
            PayOutcome::Acked(pid) => {
                t.acked += 1;
                match stored.len() {
                    0 => {
                        t.lost += 1;
                        t.note(format!(
                            "device {}: {} acknowledged, not stored",
                            d.idx, p.reference
                        ));
                    }
                    n => {
                        t.duplicated += n as u64 - 1;
                        if stored[0]["payment_id"].as_str() == Some(pid.as_str()) {
                            t.stored += u64::from(n == 1);
                        } else {
                            t.id_mismatch += 1;
                        }
                    }
                }
                let voided = stored.first().is_some_and(|r| !r["voided_at"].is_null());
                let expected = match p.void {
                    VoidState::Acked => Some(true),
                    VoidState::No => Some(false),
                    VoidState::Unknown => None,
                };
                if expected.is_some_and(|e| e != voided) {
                    t.void_mismatch += 1;
                    t.note(format!("device {}: {} voided {voided}", d.idx, p.reference));
                }
            }
            PayOutcome::Refused => t.refused_but_stored += stored.len() as u64,
            PayOutcome::Unknown => {
                t.unknown_payments += 1;
                t.duplicated += (stored.len() as u64).saturating_sub(1);
            }
        }
    }
    let sum: u64 = rows
        .iter()
        .filter(|r| r["voided_at"].is_null())
        .filter_map(|r| r["amount_minor"].as_u64())
        .sum();
    let paid = view["paid_minor"].as_u64().unwrap_or(u64::MAX);
    if paid != sum {
        t.paid_mismatch += 1;
        t.note(format!(
            "device {}: paid_minor {paid}, payments add up to {sum}",
            d.idx
        ));
    }
    if d.uncertain {
        t.uncertain_devices += 1;
    } else if paid != d.account.paid
        || view["lender_locked"].as_bool() != Some(d.account.lender_locked)
    {
        t.model_mismatch += 1;
        t.note(format!(
            "device {}: stored {view}, acknowledged {:?}",
            d.idx, d.account
        ));
    }
    let mut seen = HashSet::new();
    for seq in &d.phone.answered {
        if !seen.insert(*seq) {
            t.seq_reused += 1;
        }
    }
    let mut iats = d.phone.iats.clone();
    iats.sort_unstable();
    let min = i64::try_from(interval_s).unwrap_or(i64::MAX);
    for w in iats.windows(2) {
        if w[1] - w[0] < min {
            t.interval_violations += 1;
            t.note(format!(
                "device {}: check-ins at {} and {}",
                d.idx, w[0], w[1]
            ));
        }
    }
    Ok(())
}
