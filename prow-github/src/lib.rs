//! prow-github: the part of GitHub that Prow needs.
//!
//! Owns the GitHub client trait (pull requests, statuses, labels, comments, merges, search, ...),
//! its implementations (octocrab with a token or GitHub App, a rate-limit-aware caching layer,
//! an in-memory fake), webhook payload types and HMAC signature checks.
//!
//! Must never know about: configuration files, ProwJobs' execution, Kubernetes.
