//! Drawing a QR code in the terminal.

use qrcode::QrCode;
use qrcode::render::unicode::Dense1x2;

/// The QR code of `data` as text, two modules per character row, with a
/// quiet zone; `None` if the data does not fit a QR code. Block characters
/// are drawn in the terminal's text colour: on a dark background they are
/// the code's light modules, on a light background (`light_background`)
/// its dark ones, so that a phone reads dark on light either way.
pub(crate) fn render(data: &str, light_background: bool) -> Option<String> {
    let code = QrCode::new(data.as_bytes()).ok()?;
    let (dark, light) = if light_background {
        (Dense1x2::Dark, Dense1x2::Light)
    } else {
        (Dense1x2::Light, Dense1x2::Dark)
    };
    Some(
        code.render::<Dense1x2>()
            .dark_color(dark)
            .light_color(light)
            .quiet_zone(true)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_a_url() {
        let url = "https://liteapp.weixin.qq.com/q/sim?qrcode=abc&bot_type=3";
        let dark = super::render(url, false).unwrap();
        let light = super::render(url, true).unwrap();
        assert!(dark.lines().count() > 10);
        assert!(dark.contains('█') || dark.contains('▀') || dark.contains('▄'));
        // The quiet zone is drawn on a dark background, left blank on a
        // light one: the two are each other's inverse.
        assert!(dark.lines().next().unwrap().starts_with('█'));
        assert!(light.lines().next().unwrap().starts_with(' '));
        assert_eq!(dark.lines().count(), light.lines().count());
    }
}
