// Package views holds the console's templ components and the view models
// they render. Handlers fill the models (dates, ARNs and badges already
// formatted); views only loop and branch.
package views

// NavItem is one entry of the left navigation.
type NavItem struct {
	Label  string
	Href   string
	Active bool
}

// Layout is what every console page's frame shows.
type Layout struct {
	Title     string
	Alias     string // the account alias (or AccountId) in the top bar
	Who       string // the signed-in identity
	SignedIn  bool
	CSRFToken string
	Nav       []NavItem
	Flash     string
	FlashErr  bool
}

// Form carries a form's typed values and its per-field messages.
type Form struct {
	Values map[string]string
	Errors map[string]string
}

// Value returns the typed value of a field.
func (f Form) Value(name string) string { return f.Values[name] }

// Error returns the message for a field, or "".
func (f Form) Error(name string) string { return f.Errors[name] }

// Setup is the first-run page.
type Setup struct {
	Layout Layout
	Form   Form
}

// Login is the sign-in page.
type Login struct {
	Layout  Layout
	Form    Form
	Message string // the one refusal message
	Next    string
}

// LoginMFA is the sign-in's MFA step.
type LoginMFA struct {
	Layout  Layout
	Message string
}

// MFABind is the binding page of a virtual MFA device.
type MFABind struct {
	Layout    Layout
	Form      Form
	Secret    string // Base32 seed
	URI       string // otpauth URI
	QRCode    string // base64 PNG
	Forced    bool   // binding is required before anything else
	HasDevice bool   // a device is bound already: offer to unbind instead
}

// Check is one line of the overview's security checklist.
type Check struct {
	Label string
	OK    bool
	Hint  string
}

// Overview is the console's first page.
type Overview struct {
	Layout    Layout
	AccountID string
	Alias     string
	LogonURL  string
	LogonName string // the form of a RAM user's logon name
	Checks    []Check
}

// Error is an error page.
type Error struct {
	Layout    Layout
	Status    int
	Title     string
	Message   string
	RequestID string
}
