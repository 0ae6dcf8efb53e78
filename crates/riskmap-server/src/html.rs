//! Plain server-rendered HTML for the OGC API – Features resources
//! (`f=html` or a browser's `Accept`): the landing page, conformance,
//! collections, one collection, its queryables, items and one item. Each
//! page is the JSON document laid out for reading, with its links as
//! anchors to the HTML alternates, so a browser or a crawler can walk the
//! data. No script, no external resource.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
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

/// The HTML alternate of one of the server's own links: `f=html` in place
/// of any `f=`.
pub fn html_href(href: &str) -> String {
    let (path, query) = href.split_once('?').unwrap_or((href, ""));
    let mut parts: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("f="))
        .collect();
    parts.push("f=html");
    format!("{path}?{}", parts.join("&"))
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn value_html(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            out.push_str("<table>");
            for (k, v) in map {
                out.push_str("<tr><th>");
                out.push_str(&escape(k));
                out.push_str("</th><td>");
                value_html(v, out);
                out.push_str("</td></tr>");
            }
            out.push_str("</table>");
        }
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            let text: Vec<String> = items.iter().map(scalar).collect();
            out.push_str(&escape(&text.join(", ")));
        }
        Value::Array(items) => {
            out.push_str("<ol>");
            for i in items {
                out.push_str("<li>");
                value_html(i, out);
                out.push_str("</li>");
            }
            out.push_str("</ol>");
        }
        other => out.push_str(&escape(&scalar(other))),
    }
}

fn links_html(links: &[Value], out: &mut String) {
    out.push_str("<ul class=\"links\">");
    for l in links {
        let href = l["href"].as_str().unwrap_or("");
        let rel = l["rel"].as_str().unwrap_or("");
        let title = l["title"].as_str().unwrap_or(rel);
        let ty = l["type"].as_str().unwrap_or("");
        let target = if ty.contains("json") {
            html_href(href)
        } else {
            href.to_string()
        };
        out.push_str(&format!(
            "<li><a rel=\"{}\" href=\"{}\">{}</a> <small>({} {})</small></li>",
            escape(rel),
            escape(&target),
            escape(title),
            escape(rel),
            escape(ty)
        ));
    }
    out.push_str("</ul>");
}

fn features_html(features: &[Value], out: &mut String) {
    // Columns: the scalar properties of the first features, in order.
    let mut columns: Vec<String> = Vec::new();
    for f in features.iter().take(50) {
        if let Some(p) = f["properties"].as_object() {
            for (k, v) in p {
                if !v.is_object() && !v.is_array() && !columns.contains(k) {
                    columns.push(k.clone());
                }
            }
        }
    }
    out.push_str("<table class=\"items\"><tr><th>id</th>");
    for c in &columns {
        out.push_str(&format!("<th>{}</th>", escape(c)));
    }
    out.push_str("<th>geometry</th></tr>");
    for f in features {
        let id = scalar(&f["id"]);
        let href = f["links"]
            .as_array()
            .and_then(|ls| ls.iter().find(|l| l["rel"] == "self"))
            .and_then(|l| l["href"].as_str())
            .map(html_href)
            .unwrap_or_default();
        out.push_str(&format!(
            "<tr><td><a href=\"{}\">{}</a></td>",
            escape(&href),
            escape(&id)
        ));
        for c in &columns {
            out.push_str(&format!(
                "<td>{}</td>",
                escape(&scalar(&f["properties"][c]))
            ));
        }
        out.push_str(&format!(
            "<td>{}</td></tr>",
            escape(f["geometry"]["type"].as_str().unwrap_or(""))
        ));
    }
    out.push_str("</table>");
}

/// A page for `doc` (an OGC API JSON document) under `title`.
pub fn page(title: &str, doc: &Value) -> Response {
    let mut body = String::new();
    body.push_str("<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">");
    body.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    body.push_str(&format!("<title>{} · riskmap</title>", escape(title)));
    body.push_str(
        "<style>body{font:14px/1.5 sans-serif;margin:1.5em;max-width:80em}\
         table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:2px 6px;\
         vertical-align:top;text-align:left}th{background:#f4f4f4}</style></head><body>",
    );
    body.push_str(&format!(
        "<nav><a href=\"/\">地图 map</a> · <a href=\"/?f=html\">首页 landing page</a> · \
         <a href=\"/collections?f=html\">数据集 collections</a></nav><h1>{}</h1>",
        escape(title)
    ));
    if let Some(d) = doc["description"].as_str() {
        body.push_str(&format!("<p>{}</p>", escape(d)));
    }
    if let Some(links) = doc["links"].as_array() {
        links_html(links, &mut body);
    }
    if let Some(n) = doc["numberMatched"].as_u64() {
        body.push_str(&format!(
            "<p>{} matched, {} shown</p>",
            n,
            doc["numberReturned"].as_u64().unwrap_or(0)
        ));
    }
    if let Some(features) = doc["features"].as_array() {
        features_html(features, &mut body);
    } else if let Some(collections) = doc["collections"].as_array() {
        body.push_str("<table><tr><th>id</th><th>title</th><th>links</th></tr>");
        for c in collections {
            body.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>",
                escape(&scalar(&c["id"])),
                escape(&scalar(&c["title"]))
            ));
            if let Some(links) = c["links"].as_array() {
                links_html(links, &mut body);
            }
            body.push_str("</td></tr>");
        }
        body.push_str("</table>");
    } else {
        let mut rest = doc.clone();
        if let Some(m) = rest.as_object_mut() {
            m.remove("links");
            m.remove("description");
        }
        value_html(&rest, &mut body);
    }
    body.push_str("</body></html>");
    let mut resp = body.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn links_lead_to_html_alternates_and_text_is_escaped() {
        assert_eq!(
            html_href("http://h/collections?f=json"),
            "http://h/collections?f=html"
        );
        assert_eq!(
            html_href("http://h/c/items?limit=10&f=json&offset=5"),
            "http://h/c/items?limit=10&offset=5&f=html"
        );
        assert_eq!(
            escape("<a href=\"x\">&"),
            "&lt;a href=&quot;x&quot;&gt;&amp;"
        );
        let doc = json!({"title": "t", "links": [{"href": "http://h/x", "rel": "self", "type": "application/json"}],
            "features": [{"id": "<e>", "properties": {"name": "化工<厂>"}, "geometry": {"type": "Point"}, "links": []}]});
        let resp = page("<t>", &doc);
        assert_eq!(
            resp.headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            Some("text/html; charset=utf-8")
        );
    }
}
