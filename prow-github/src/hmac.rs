//! Webhook signatures: HMAC-SHA256 signing and constant-time verification against the secrets
//! of Prow's HMAC file.
//!
//! The file is either one raw token (the legacy form) or YAML mapping `org/repo`, `org` or `*`
//! to a list of `{value, created_at}` tokens. Only the most specific level that is configured
//! for an event's repository counts, and any token listed there may match, which is how
//! secrets are rotated without dropping events.
//!
//! To pick the secret, Prow decodes the payload into a struct of its `repository` and
//! `organization`, and refuses a payload that does not decode (`invalid payload`). Ours reads
//! only the two fields it needs, `repository.full_name` and `organization.login`, with serde's
//! rules: Go's decoder also type-checks every other field of its `Repo` and `Organization`,
//! matches keys without regard to case and lets a repeated key win where serde refuses it.
//! No payload GitHub sends tells the two apart.

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

/// The prefix of `X-Hub-Signature-256` values.
pub const SIGNATURE_PREFIX: &str = "sha256=";

/// The `X-Hub-Signature-256` value for `payload` signed with `key`.
pub fn sign(payload: &[u8], key: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(payload);
    format!(
        "{SIGNATURE_PREFIX}{}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// One token of the hierarchical HMAC file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct HmacToken {
    /// The secret.
    pub value: String,
    /// When it was created (kept as written).
    #[serde(default)]
    pub created_at: Option<String>,
}

/// The secrets webhooks are checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HmacSecrets {
    /// One token for every repository (the legacy file form).
    Single(Vec<u8>),
    /// Tokens by `org/repo`, `org` or `*`.
    ByRepo(BTreeMap<String, Vec<HmacToken>>),
}

impl HmacSecrets {
    /// Reads an HMAC file the way Prow's hook does: YAML of tokens by repository when it parses
    /// as such, else the whole (trimmed) content is one token.
    pub fn parse(content: &[u8]) -> Self {
        let trimmed = content.trim_ascii();
        match serde_yaml::from_slice::<Option<BTreeMap<String, Vec<HmacToken>>>>(trimmed) {
            Ok(map) => {
                let mut map = map.unwrap_or_default();
                // Newest first: after a rotation GitHub signs with the new secret, so most
                // deliveries are verified by the first token tried. RFC 3339 times in one
                // zone sort as text; any other order only costs a few more HMACs.
                for tokens in map.values_mut() {
                    tokens.sort_by(|a, b| b.created_at.cmp(&a.created_at));
                }
                HmacSecrets::ByRepo(map)
            }
            Err(_) => HmacSecrets::Single(trimmed.to_vec()),
        }
    }

    /// The tokens every payload is checked against whatever repository it names: the legacy
    /// single token, or a file that configures only `*`. `None` when the repository decides.
    pub(crate) fn global_tokens(&self) -> Option<Vec<&[u8]>> {
        let global = match self {
            HmacSecrets::Single(_) => true,
            HmacSecrets::ByRepo(map) => map.keys().eq(["*"]),
        };
        global.then(|| self.tokens_for("*").ok()).flatten()
    }

    /// The tokens for `org_repo` (`org/repo`, or `org` for organisation events): those of the
    /// repository if it has any, else of its org, else of `*`.
    pub fn tokens_for(&self, org_repo: &str) -> Result<Vec<&[u8]>, String> {
        let map = match self {
            HmacSecrets::Single(token) => return Ok(vec![token.as_slice()]),
            HmacSecrets::ByRepo(map) => map,
        };
        let org = org_repo.split('/').next().unwrap_or_default();
        [org_repo, org, "*"]
            .into_iter()
            .find_map(|key| map.get(key))
            .map(|tokens| tokens.iter().map(|t| t.value.as_bytes()).collect())
            .ok_or_else(|| {
                format!(
                    "no hmac is configured for the org/repo {org_repo:?} and no legacy global token is configured"
                )
            })
    }
}

/// The part of any event payload that says whose it is, borrowed from the payload where it
/// needs no unescaping.
#[derive(Deserialize)]
struct Owner<'a> {
    #[serde(default, borrow)]
    repository: Option<RepoName<'a>>,
    #[serde(default, borrow)]
    organization: Option<OrgName<'a>>,
}

#[derive(Deserialize)]
struct RepoName<'a> {
    #[serde(default, borrow)]
    full_name: std::borrow::Cow<'a, str>,
}

#[derive(Deserialize)]
pub(crate) struct OrgName<'a> {
    #[serde(default, borrow)]
    login: std::borrow::Cow<'a, str>,
}

/// Checks `signature` (`sha256=<hex>`) over `payload` against the secrets configured for the
/// payload's repository, in constant time; the error is Prow's reason text.
pub fn validate_payload(
    payload: &[u8],
    signature: &str,
    secrets: &HmacSecrets,
) -> Result<(), String> {
    let org_repo = owner_of(payload)?;
    verify_for(payload, signature, secrets, &org_repo)
}

/// Whose payload this is, read as Prow's hook reads it to pick the secret: its
/// `repository.full_name`, else its `organization.login`, else empty. The error is Prow's
/// reason for a payload it cannot read that way.
fn owner_of(payload: &[u8]) -> Result<std::borrow::Cow<'_, str>, String> {
    // Go decodes into a struct only from an object or `null`; serde would also take an array.
    let first = payload.iter().find(|b| !b.is_ascii_whitespace());
    if !matches!(first, Some(b'{' | b'n')) {
        return Err("invalid payload".to_owned());
    }
    let owner: Option<Owner<'_>> =
        serde_json::from_slice(payload).map_err(|_| "invalid payload".to_owned())?;
    let owner = owner.unwrap_or(Owner {
        repository: None,
        organization: None,
    });
    let org_repo = owner.repository.map(|r| r.full_name).unwrap_or_default();
    if !org_repo.is_empty() {
        return Ok(org_repo);
    }
    Ok(owner.organization.map(|o| o.login).unwrap_or_default())
}

/// The MAC a `sha256=<hex>` signature carries; the error is Prow's reason for any other form.
pub(crate) fn signature_mac(signature: &str) -> Result<Vec<u8>, String> {
    let hex_sig = signature
        .strip_prefix(SIGNATURE_PREFIX)
        .ok_or_else(|| "invalid signature".to_owned())?;
    hex::decode(hex_sig).map_err(|_| "invalid signature".to_owned())
}

/// Whether `payload` signed with one of `tokens` gives `mac`, in constant time per token.
pub(crate) fn signed_by(payload: &[u8], mac: &[u8], tokens: &[&[u8]]) -> bool {
    // Like Prow's hook, the search stops at the first token that matches, which tells a timing
    // observer only which configured secret was used.
    tokens.iter().any(|key| {
        let mut hmac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
        hmac.update(payload);
        hmac.verify_slice(mac).is_ok()
    })
}

/// Checks `signature` over `payload` against the secrets of `org_repo` (the payload's
/// `repository.full_name`, else its `organization.login`), in constant time.
pub fn verify_for(
    payload: &[u8],
    signature: &str,
    secrets: &HmacSecrets,
    org_repo: &str,
) -> Result<(), String> {
    // Prow checks the signature's form before it looks for a secret.
    let mac = signature_mac(signature)?;
    let tokens = secrets
        .tokens_for(org_repo)
        .map_err(|_| "failed to get an appropriate hmac secret".to_owned())?;
    if signed_by(payload, &mac, &tokens) {
        Ok(())
    } else {
        Err(format!(
            "misconfigured webhook secret from organization/repo: {org_repo}"
        ))
    }
}
