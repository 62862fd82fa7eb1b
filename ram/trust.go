package ram

import "ramconsole/policy"

// parseTrustPolicy parses and validates a role's trust policy.
func parseTrustPolicy(doc string) (*policy.Document, error) { return policy.ParseTrust(doc) }
