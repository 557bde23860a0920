//! What the cat, dog, pony and yuks plugins share: a choice from a list that needs no network
//! and no randomness source, and the commands' shape.

/// The item of `list` for `seed` (the delivery id), the same for the same delivery: FNV-1a of
/// the seed modulo the length. `None` for an empty list.
pub fn pick<'a, T>(list: &'a [T], seed: &str) -> Option<&'a T> {
    if list.is_empty() {
        return None;
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in seed.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let len = u64::try_from(list.len()).unwrap_or(u64::MAX);
    let index = usize::try_from(hash % len).unwrap_or(0);
    list.get(index)
}

/// How long a picture plugin waits for its image endpoint before using its built-in images.
pub const ENDPOINT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The image link of one random photo from `url`, which answers unsplash.com's random-photo
/// JSON (`{"urls": {"small": "https://..."}}`), as goose reads it (upstream `readGoose`).
pub async fn random_image(http: &reqwest::Client, url: &str) -> Result<String, String> {
    #[derive(serde::Deserialize)]
    struct Photo {
        #[serde(default)]
        urls: Urls,
    }
    #[derive(serde::Deserialize, Default)]
    struct Urls {
        #[serde(default)]
        small: String,
    }
    // Never log `url` itself: it may carry an API key.
    let reply = http
        .get(url)
        .timeout(ENDPOINT_TIMEOUT)
        .send()
        .await
        .map_err(|e| format!("ask the image endpoint: {}", e.without_url()))?;
    let status = reply.status();
    if !status.is_success() {
        return Err(format!("the image endpoint answered {status}"));
    }
    let body = reply
        .bytes()
        .await
        .map_err(|e| format!("read the image endpoint's answer: {}", e.without_url()))?;
    let photo: Photo = serde_json::from_slice(&body)
        .map_err(|e| format!("read the image endpoint's answer: {e}"))?;
    let small = photo.urls.small;
    if small.is_empty() {
        return Err("no image url in the image endpoint's answer".to_owned());
    }
    reqwest::Url::parse(&small).map_err(|e| format!("invalid image url {small}: {e}"))?;
    Ok(small)
}

/// Where a picture plugin gets its images: an endpoint when configured, else (or when it
/// fails) built-in links.
#[derive(Debug, Clone)]
pub struct Pictures {
    http: reqwest::Client,
    fallback: Vec<String>,
}

impl Pictures {
    /// Pictures with `fallback` as the built-in links.
    pub fn new(fallback: Vec<String>) -> Self {
        Pictures {
            http: reqwest::Client::new(),
            fallback,
        }
    }

    /// An image for `plugin`: one from `endpoint` when there is one and it answers, else the
    /// built-in link for `seed` (logged, so that a broken endpoint shows). `None` only when
    /// both fail.
    pub async fn image(&self, plugin: &str, endpoint: Option<&str>, seed: &str) -> Option<String> {
        if let Some(url) = endpoint {
            match random_image(&self.http, url).await {
                Ok(image) => return Some(image),
                Err(error) => {
                    tracing::warn!(plugin, %error, "image endpoint failed; using a built-in image");
                }
            }
        }
        pick(&self.fallback, seed).cloned()
    }
}
