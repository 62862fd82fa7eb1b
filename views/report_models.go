package views

// CredentialReport is the credential report page: the latest report's
// generation time, its columns and rows (pre-formatted cells).
type CredentialReport struct {
	Layout Layout
	// Generated is when the shown report was generated (UTC, to the second).
	Generated string
	Columns   []string
	Rows      [][]string
	// CanGenerate: whether the viewer may generate a new report.
	CanGenerate bool
}
