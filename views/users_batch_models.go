package views

// UserBatch is the form that creates several users at once.
type UserBatch struct {
	Layout Layout
	Rows   []BatchRow
	// Form holds the shared access fields, their messages, and the message
	// of the batch as a whole ("rows").
	Form Form
	// Max is how many users one batch creates at most; AddRows is how many
	// rows "Add rows" adds, 0 when the form has Max rows already.
	Max     int
	AddRows int
	// Refused: the batch was refused and nothing was created.
	Refused bool
}

// BatchRow is one row of the batch form, numbered from 1, with its messages.
type BatchRow struct {
	N                       int
	Name, DisplayName       string
	NameError, DisplayError string
}

// BatchReveal is the hand-over sheet of a batch: every new user's
// credentials and one CSV of all of them, shown once.
type BatchReveal struct {
	Layout   Layout
	Title    string
	LogonURL string
	Users    []HandoverUser
	CSVHref  string
	// Passwords and Keys: the users got console access, AccessKeys.
	Passwords, Keys bool
	NextSteps       []Link
	Back            string
}

// HandoverUser is one user of a batch's hand-over sheet.
type HandoverUser struct {
	Name, Href, LogonName, Password, KeyID, KeySecret string
}
