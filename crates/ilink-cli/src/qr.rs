//! Drawing a QR code in the terminal.

use qrcode::QrCode;
use qrcode::render::unicode::Dense1x2;

/// The QR code of `data` as text, two modules per character row, with a
/// quiet zone; `None` if the data does not fit a QR code.
pub(crate) fn render(data: &str) -> Option<String> {
    let code = QrCode::new(data.as_bytes()).ok()?;
    Some(
        code.render::<Dense1x2>()
            .dark_color(Dense1x2::Light)
            .light_color(Dense1x2::Dark)
            .quiet_zone(true)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_a_url() {
        let art =
            super::render("https://liteapp.weixin.qq.com/q/sim?qrcode=abc&bot_type=3").unwrap();
        assert!(art.lines().count() > 10);
        assert!(art.contains('█') || art.contains('▀') || art.contains('▄'));
    }
}
