//! Swagger UI over the document, entirely from this server.
//!
//! Swagger UI's own files (`swagger-ui-bundle.js`, `swagger-ui.css`, ...) come from the
//! `swagger-ui-redist` crate, which embeds the distribution's files with `include_bytes!`
//! (nothing is downloaded or unpacked at build time and no third-party file lives in this
//! repository; its only dependencies are serde and serde_json). The page and the script that
//! starts Swagger UI are ours, so the title is configurable and nothing refers to another host.
//!
//! The page has no inline script or style (the distribution's `index.css` and our initializer
//! are files), so it runs under [`SWAGGER_UI_CSP`], which allows nothing but this server's own
//! files.

use bytes::Bytes;
use serde_json::json;

pub use super::DEFAULT_SWAGGER_UI_TITLE;

/// Where Swagger UI is served (Mastra's path).
pub const SWAGGER_UI_PATH: &str = "/swagger-ui";

/// Name of the script that starts Swagger UI; ours, not the distribution's.
pub const INITIALIZER: &str = "swagger-initializer.js";

/// The Content-Security-Policy of the Swagger UI page and its files: scripts, styles, fonts
/// and requests only from this server (no inline code, no `eval`), images also as `data:` URLs
/// (Swagger UI's icons), no plugins, no `<base>`, no form posts, and never inside a frame.
pub const SWAGGER_UI_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

pub use super::document::DOCUMENT_CSP;

/// One file of the UI.
#[derive(Debug, Clone)]
pub struct Asset {
    /// The file's bytes.
    pub bytes: Bytes,
    /// Its media type.
    pub content_type: String,
}

/// The Swagger UI page and files, prepared once.
#[derive(Clone)]
pub struct SwaggerUi {
    page: Bytes,
    initializer: Bytes,
}

impl std::fmt::Debug for SwaggerUi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SwaggerUi")
            .field("page", &self.page.len())
            .finish_non_exhaustive()
    }
}

impl SwaggerUi {
    /// Prepares the page titled `title` for the document at `document_url`.
    ///
    /// ```
    /// use mastra_runtime::openapi::SwaggerUi;
    /// let ui = SwaggerUi::new("Shop <API>", "/api/openapi.json");
    /// let page = String::from_utf8(ui.page().to_vec()).unwrap();
    /// assert!(page.contains("<title>Shop &lt;API&gt;</title>"));
    /// assert!(ui.asset("swagger-ui-bundle.js").is_some());
    /// assert!(ui.asset("nope.js").is_none());
    /// ```
    pub fn new(title: &str, document_url: &str) -> Self {
        let base = SWAGGER_UI_PATH;
        let title = escape_html(title);
        let page = format!(
            r#"<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <meta name="viewport" content="width=device-width, initial-scale=1" />
  <title>{title}</title>
  <link rel="stylesheet" href="{base}/swagger-ui.css" />
  <link rel="stylesheet" href="{base}/index.css" />
  <link rel="icon" type="image/png" href="{base}/favicon-32x32.png" sizes="32x32" />
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{base}/swagger-ui-bundle.js" charset="UTF-8"></script>
  <script src="{base}/{INITIALIZER}" charset="UTF-8"></script>
</body>
</html>
"#
        );
        // `validatorUrl: null` keeps Swagger UI from sending the document to an online validator.
        let options = json!({
            "url": document_url,
            "dom_id": "#swagger-ui",
            "deepLinking": true,
            "validatorUrl": null,
            "persistAuthorization": true,
            "displayRequestDuration": true,
            "layout": "BaseLayout",
        });
        let initializer = format!(
            "window.onload = function () {{\n  var options = {options};\n  \
             options.presets = [SwaggerUIBundle.presets.apis];\n  \
             window.ui = SwaggerUIBundle(options);\n}};\n"
        );
        Self {
            page: Bytes::from(page),
            initializer: Bytes::from(initializer),
        }
    }

    /// The HTML page.
    pub fn page(&self) -> &Bytes {
        &self.page
    }

    /// A file under the UI's path (`swagger-ui-bundle.js`, `swagger-ui.css`, ...), or `None`.
    pub fn asset(&self, file: &str) -> Option<Asset> {
        match file {
            "" | "index.html" => Some(Asset {
                bytes: self.page.clone(),
                content_type: "text/html; charset=utf-8".to_owned(),
            }),
            INITIALIZER => Some(Asset {
                bytes: self.initializer.clone(),
                content_type: "text/javascript; charset=utf-8".to_owned(),
            }),
            _ => {
                let (_, bytes) = swagger_ui_redist::SwaggerUi::static_files()
                    .iter()
                    .find(|(static_file, _)| static_file.file_name() == file)?;
                Some(Asset {
                    bytes: Bytes::from_static(bytes),
                    content_type: media_type(file)?.to_owned(),
                })
            }
        }
    }
}

/// The media type of a distribution file, by its extension (the distribution holds only
/// stylesheets, scripts and PNG icons).
fn media_type(file: &str) -> Option<&'static str> {
    match file.rsplit_once('.')?.1 {
        "css" => Some("text/css; charset=utf-8"),
        "js" => Some("text/javascript; charset=utf-8"),
        "png" => Some("image/png"),
        _ => None,
    }
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_files_under_the_ui_path() {
        let ui = SwaggerUi::new("API", "/api/openapi.json");
        let page = std::str::from_utf8(ui.page()).unwrap();
        assert!(!page.contains("<style"), "inline style: {page}");
        for src in page
            .split(['"'])
            .filter(|s| s.ends_with(".js") || s.ends_with(".css"))
        {
            assert!(src.starts_with("/swagger-ui/"), "{src}");
            let file = src.trim_start_matches("/swagger-ui/");
            assert!(ui.asset(file).is_some(), "{file} is not served");
        }
        let init = ui.asset(INITIALIZER).unwrap();
        let init = std::str::from_utf8(&init.bytes).unwrap();
        assert!(init.contains(r#""url":"/api/openapi.json""#), "{init}");
        assert!(init.contains(r#""validatorUrl":null"#), "{init}");
        assert!(!init.contains("http"), "{init}");
    }

    #[test]
    fn assets_carry_their_media_type() {
        let ui = SwaggerUi::new("API", "/api/openapi.json");
        let media_types = [
            ("swagger-ui.css", "text/css; charset=utf-8"),
            ("index.css", "text/css; charset=utf-8"),
            ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
            ("favicon-32x32.png", "image/png"),
        ];
        for (file, media_type) in media_types {
            assert_eq!(ui.asset(file).unwrap().content_type, media_type, "{file}");
        }
        assert!(ui.asset("swagger-ui-bundle.js").unwrap().bytes.len() > 100_000);
    }
}
