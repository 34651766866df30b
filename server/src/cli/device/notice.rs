//! `finlock device notice`: the notice page, as the phone shows it at a screen unlock from
//! the notice level on (PROTOCOL §3.7), and the record that it was displayed.
//!
//! The phone's shell reads the core's page (`DeviceState::notice_page`), puts it on screen
//! and then tells the core (`Device::notice_shown`); the core keeps the first display of
//! the episode and measures the notice period from it by the phone's own running time. The
//! simulator does the same in that order, and prints the page in the app's words
//! ([`crate::console::lock_preview`], the console's preview of the same screens) for
//! `--locale`, dates in the phone's zone. At `normal` there is no notice to show, and a
//! locked phone shows its lock screen instead: neither records anything.

use finlock_core::clock::ClockInput;
use finlock_core::decision::Level;
use finlock_core::device::Device;
use serde_json::json;

use super::{SimError, Zone, describe, input, level_str};
use crate::console::i18n::Lang;
use crate::console::lock_preview;

pub fn show(
    device: &mut Device,
    clock: &ClockInput,
    zone: &Zone,
    locale: &str,
    as_json: bool,
) -> Result<(), SimError> {
    let eval = device.evaluate(clock)?;
    let level = eval.decision.level;
    if !matches!(level, Level::Notice | Level::Restricted) || eval.decision.released {
        let why = match level {
            Level::Locked => {
                "the phone is locked: its lock screen shows instead (finlock device status)"
            }
            _ => "no notice to show: the phone is in good standing",
        };
        if as_json {
            println!(
                "{}",
                json!({ "level": level_str(level), "shown": false, "recorded": false })
            );
        } else {
            println!("{why}; nothing recorded");
        }
        return Ok(());
    }
    // What the screen shows is read before the display is recorded, as on the phone: the
    // first display says the notice comes at each unlock; later ones when it was first shown.
    let page = device.state().notice_page(&eval, locale)?;
    let lang = Lang::from_tag(locale).unwrap_or(Lang::En);
    let date = |t: i64| lock_preview::date_in(t, lang, zone.zone());
    let screen = lock_preview::notice_screen(&page, lang, &date);
    let recorded = device.notice_shown(clock)?;
    let after = device.evaluate(clock)?.decision;
    let first_shown = after.notice_first_shown;
    if as_json {
        let out = json!({
            "level": level_str(level),
            "shown": true,
            "recorded": recorded,
            "reason": page.reason.map(|r| super::reason_str(Some(r))),
            "notice_first_shown": first_shown,
            "held_for_notice": after.held_for_notice,
            "restrict_from": page.restrict_from,
            "lock_from": page.lock_from,
            "payment_apps": page.payment_apps,
            "essentials": page.essentials,
            "page": {
                "title": screen.title,
                "lead": screen.lead,
                "details": screen.details,
                "buttons": screen.buttons,
            },
            "local": {
                "tz": zone.name,
                "notice_first_shown": first_shown.map(|t| zone.iso(t)),
                "restrict_from": page.restrict_from.map(|t| zone.iso(t)),
                "lock_from": page.lock_from.map(|t| zone.iso(t)),
            },
        });
        println!(
            "{}",
            serde_json::to_string(&out).map_err(|e| input("json", e))?
        );
        return Ok(());
    }
    for line in framed(&screen.lines()) {
        println!("{line}");
    }
    let first = first_shown.map_or_else(|| "-".to_string(), |t| zone.iso(t));
    if recorded {
        println!("displayed and recorded: the notice period runs from {first}");
    } else {
        println!("displayed; already recorded: first shown at {first}");
    }
    println!("now: {}", describe(&after));
    Ok(())
}

/// The screen's lines in a frame, as a phone-shaped box on a terminal.
pub fn framed(lines: &[String]) -> Vec<String> {
    let rule = "─".repeat(68);
    let mut out = vec![format!("┌{rule}")];
    out.extend(lines.iter().map(|l| format!("│ {l}")));
    out.push(format!("└{rule}"));
    out
}
