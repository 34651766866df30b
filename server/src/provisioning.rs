//! Android Device Owner QR provisioning (the setup wizard's "tap six times" QR).
//!
//! The payload is the standard JSON of `android.app.extra.PROVISIONING_*` keys; what
//! finlock needs on the phone travels in the admin extras bundle, which the app
//! receives once, at provisioning: the server URL, the lender's public key set (what
//! the device pins — never learned from the network) and the one-time enrollment code.
//! Bundle values are strings because Android's `PersistableBundle` carries no JSON.

use qrcode::{Color, EcLevel, QrCode};
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};

pub const EXTRA_COMPONENT: &str = "android.app.extra.PROVISIONING_DEVICE_ADMIN_COMPONENT_NAME";
pub const EXTRA_DOWNLOAD: &str =
    "android.app.extra.PROVISIONING_DEVICE_ADMIN_PACKAGE_DOWNLOAD_LOCATION";
pub const EXTRA_CHECKSUM: &str = "android.app.extra.PROVISIONING_DEVICE_ADMIN_SIGNATURE_CHECKSUM";
pub const EXTRA_LEAVE_SYSTEM_APPS: &str =
    "android.app.extra.PROVISIONING_LEAVE_ALL_SYSTEM_APPS_ENABLED";
pub const EXTRA_ADMIN_BUNDLE: &str = "android.app.extra.PROVISIONING_ADMIN_EXTRAS_BUNDLE";

/// Keys inside the admin extras bundle, read by the app.
pub const BUNDLE_SERVER_URL: &str = "finlock.server_url";
pub const BUNDLE_LENDER_KEYS: &str = "finlock.lender_keys";
pub const BUNDLE_ENROLLMENT_CODE: &str = "finlock.enrollment_code";

pub struct Inputs<'a> {
    pub server_url: &'a str,
    /// The lender's JWKS as stored (compact JSON).
    pub lender_jwks: &'a str,
    pub enrollment_code: &'a str,
    pub admin_component: &'a str,
    pub apk_url: Option<&'a str>,
    pub apk_checksum: Option<&'a str>,
}

/// The provisioning JSON (compact: it goes into a QR code).
pub fn payload(i: &Inputs<'_>) -> Result<String> {
    let mut top = Map::new();
    top.insert(EXTRA_COMPONENT.into(), json!(i.admin_component));
    if let Some(url) = i.apk_url {
        top.insert(EXTRA_DOWNLOAD.into(), json!(url));
    }
    if let Some(sum) = i.apk_checksum {
        top.insert(EXTRA_CHECKSUM.into(), json!(sum));
    }
    // The dialer and the rest of the system stay: emergency calls must always work.
    top.insert(EXTRA_LEAVE_SYSTEM_APPS.into(), json!(true));
    top.insert(
        EXTRA_ADMIN_BUNDLE.into(),
        json!({
            BUNDLE_SERVER_URL: i.server_url,
            BUNDLE_LENDER_KEYS: i.lender_jwks,
            BUNDLE_ENROLLMENT_CODE: i.enrollment_code,
        }),
    );
    serde_json::to_string(&Value::Object(top))
        .map_err(|e| Error::Internal(format!("provisioning payload: {e}")))
}

/// What a lender asks the provisioning QR as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrFormat {
    /// The payload itself.
    Json,
    Png,
    Svg,
}

/// The provisioning payload of one of the lender's devices, as `format`:
/// (content type, bytes). A device without a one-time code has none. The QR pins the
/// lender's current key set (`lenders.jwks`, with its `keys_seq` once the lender rotated;
/// ADR 0007), so a phone provisioned now needs no catching up, and one printed earlier
/// still works and catches up at enrollment.
pub fn for_device(
    app: &crate::app::App,
    lender: &crate::db::queries::LenderRow,
    device: &crate::db::queries::DeviceRow,
    format: QrFormat,
) -> Result<(&'static str, Vec<u8>)> {
    let code = device
        .enrollment_code
        .as_deref()
        .ok_or_else(|| Error::conflict("no-code", "this device has no enrollment code"))?;
    let payload = payload(&Inputs {
        server_url: &app.public_url,
        lender_jwks: &lender.jwks,
        enrollment_code: code,
        admin_component: &app.config.admin_component,
        apk_url: app.config.apk_url.as_deref(),
        apk_checksum: app.config.apk_checksum.as_deref(),
    })?;
    Ok(match format {
        QrFormat::Json => ("application/json", payload.into_bytes()),
        QrFormat::Svg => ("image/svg+xml", svg(&payload)?.into_bytes()),
        QrFormat::Png => ("image/png", png(&payload)?),
    })
}

fn qr(payload: &str) -> Result<QrCode> {
    QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(|e| Error::Internal(format!("QR code: {e}")))
}

/// The QR code as SVG.
pub fn svg(payload: &str) -> Result<String> {
    Ok(qr(payload)?
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(320, 320)
        .quiet_zone(true)
        .build())
}

/// Pixels per QR module and the quiet zone (in modules) of the PNG.
const SCALE: usize = 4;
const QUIET: usize = 4;

/// The QR code as an 8-bit grayscale PNG.
pub fn png(payload: &str) -> Result<Vec<u8>> {
    let code = qr(payload)?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET) * SCALE;
    let mut pixels = vec![255u8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color == Color::Dark {
            let (mx, my) = (i % modules + QUIET, i / modules + QUIET);
            for dy in 0..SCALE {
                let row = (my * SCALE + dy) * side;
                let start = row + mx * SCALE;
                pixels[start..start + SCALE].fill(0);
            }
        }
    }
    let side32 = u32::try_from(side).map_err(|_| Error::Internal("QR code too large".into()))?;
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side32, side32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let png_err = |e: png::EncodingError| Error::Internal(format!("PNG: {e}"));
    let mut writer = encoder.write_header().map_err(png_err)?;
    writer.write_image_data(&pixels).map_err(png_err)?;
    writer.finish().map_err(png_err)?;
    Ok(out)
}

/// A QR code of `text` as a `data:` URI holding its PNG, for a page to show inline (the
/// console's CSP allows `data:` images). A PNG: a few KB where an SVG of one path per
/// module, percent-encoded, weighed ~76 KB of an 80 KB page.
pub fn png_data_uri(text: &str) -> Result<String> {
    Ok(data_uri_of_png(&png(text)?))
}

/// A PNG's bytes as a `data:` URI (standard base64: nothing in it needs escaping in HTML).
pub fn data_uri_of_png(png: &[u8]) -> String {
    use base64::Engine as _;
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> Inputs<'static> {
        Inputs {
            server_url: "https://lender.example",
            lender_jwks: r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"k"}]}"#,
            enrollment_code: "ABCD-EFGH-JKMN",
            admin_component: "org.finlock.app/.Admin",
            apk_url: None,
            apk_checksum: None,
        }
    }

    #[test]
    fn payload_carries_the_standard_keys_and_the_bundle() {
        let p: Value = serde_json::from_str(&payload(&inputs()).unwrap()).unwrap();
        assert_eq!(p[EXTRA_COMPONENT], "org.finlock.app/.Admin");
        assert!(p.get(EXTRA_DOWNLOAD).is_none());
        let bundle = &p[EXTRA_ADMIN_BUNDLE];
        assert_eq!(bundle[BUNDLE_ENROLLMENT_CODE], "ABCD-EFGH-JKMN");
        let keys = bundle[BUNDLE_LENDER_KEYS].as_str().unwrap();
        finlock_core::keys::KeySet::from_json(keys.as_bytes()).unwrap();
    }

    #[test]
    fn the_png_data_uri_is_the_png_in_plain_base64() {
        use base64::Engine as _;
        let p = payload(&inputs()).unwrap();
        let uri = png_data_uri(&p).unwrap();
        let b64 = uri.strip_prefix("data:image/png;base64,").unwrap();
        assert!(
            b64.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
        );
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        assert_eq!(bytes, png(&p).unwrap());
        assert!(uri.len() < 8 * 1024, "{} bytes", uri.len());
    }

    #[test]
    fn png_and_svg_render() {
        let p = payload(&inputs()).unwrap();
        let png = png(&p).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert!(svg(&p).unwrap().contains("<svg"));
    }
}
