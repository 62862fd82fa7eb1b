package views

// SecurityKeyRow is one registered security key, as its owner or an
// administrator sees it: never more of the credential than a short prefix.
type SecurityKeyRow struct {
	ID, Name, Added, LastUsed string
	Synced                    bool   // backed up (a synced passkey)
	CredentialPrefix          string // the credential id's first characters
	DeleteHref                string // the confirmation page (own keys)
	DeleteAction              string // the form's action (an administrator's)
}

// SecurityKeys is the page listing one's own keys.
type SecurityKeys struct {
	Layout Layout
	// Unavailable, when set, is why keys cannot be used here.
	Unavailable string
	Keys        []SecurityKeyRow
	CanAdd      bool
	Max         int
	// Managed: the administrator manages the identity's MFA devices.
	Managed bool
}

// KeyCeremony is a form that runs a WebAuthn ceremony through webauthn.js.
type KeyCeremony struct {
	Kind    string // "create" or "get"
	Options string // go-webauthn's options JSON
}

// SecurityKeyNew is the form that adds a key.
type SecurityKeyNew struct {
	Layout       Layout
	Form         Form
	Message      string // why the last answer was refused
	Ceremony     KeyCeremony
	AskPassword  bool
	Forced       bool // binding an MFA factor is required before anything else
	OriginChange string
}

// SecurityKeyDelete confirms the deletion of one's own key.
type SecurityKeyDelete struct {
	Layout   Layout
	Form     Form
	Message  string
	Key      SecurityKeyRow
	HasTOTP  bool
	Ceremony KeyCeremony // empty when the identity has no key to confirm with
}
