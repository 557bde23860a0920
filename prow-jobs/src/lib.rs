//! prow-jobs: making, decorating, running and tracking ProwJobs.
//!
//! Owns ProwJob construction from configuration plus an event (mkpj), pod decoration (mkpod),
//! the pod utilities, artifact storage, the job store and runners, and the lifecycle
//! controllers: plank, horologium, sinker and crier.
//!
//! Must never know about: HTTP servers, webhooks' wire format, command-line parsing. It sees
//! GitHub only through the prow-github trait.
