package app

// ParseIngest is parseIngest for the integration tests (package app_test),
// which must tell a malformed body from a valid one as the ingest API does.
var ParseIngest = parseIngest
