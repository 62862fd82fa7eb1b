package ram

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"ramconsole/store"
)

// MaxUsersPerBatch is how many users one batch creates at most (SPEC §5).
const MaxUsersPerBatch = 50

// BatchUserInput is one row of a batch: a name and a display name. Row
// numbers the row in the caller's form; the row's problems are the Fields
// "name.<Row>" and "display_name.<Row>" of the error, and a problem of the
// batch as a whole is the Field "rows".
type BatchUserInput struct {
	Row         int
	UserName    string
	DisplayName string
}

// BatchAccess is the access every user of a batch gets: console access with
// a generated password (one per user, always generated) and its flags,
// and an AccessKey.
type BatchAccess struct {
	ConsoleLogin          bool
	PasswordResetRequired bool
	MFABindRequired       bool
	AccessKey             bool
}

// BatchCreated is one user a batch created, with what is shown once.
type BatchCreated struct {
	User      *User
	Password  string // the generated password; "" without console access
	AccessKey *NewAccessKey
}

// CreateUsers creates several users at once, with the same access for
// each, as the console's batch form does (SPEC §5 POST /users/batch). It is
// authorised as CreateUserWithAccess is, for every user. The names are
// checked together first — format, duplicates within the batch and with
// existing users, the user limit, more than MaxUsersPerBatch rows — and any
// problem refuses the whole batch (one failed CreateUser event) with a
// message per row; otherwise every user, login profile and AccessKey is
// created in one transaction, each with the events single creation writes.
// Never half a batch.
func (s *Service) CreateUsers(ctx context.Context, a Actor, rows []BatchUserInput, access BatchAccess) ([]BatchCreated, error) {
	acct := s.accountID(ctx)
	if err := s.authorize(ctx, a, "ram:CreateUser", allUsersResource(acct)); err != nil {
		return nil, err
	}
	for i := range rows {
		if rows[i].DisplayName == "" {
			rows[i].DisplayName = rows[i].UserName
		}
	}
	if err := s.checkBatch(ctx, s.st.Reads, rows); err != nil {
		return nil, s.refuseBatch(ctx, a, acct, rows, err)
	}
	for _, r := range rows {
		// The users do not exist yet: they will be stored as spelled.
		if access.ConsoleLogin {
			if err := s.authorize(ctx, a, "ram:CreateLoginProfile", unresolved(acct, "user", r.UserName)); err != nil {
				return nil, err
			}
		}
		if access.AccessKey {
			if err := s.authorize(ctx, a, "ram:CreateAccessKey", unresolved(acct, "user", r.UserName)); err != nil {
				return nil, err
			}
		}
	}
	out := make([]BatchCreated, len(rows))
	var hashes []string
	if access.ConsoleLogin {
		// Hashed before the transaction, so the writer is not held for
		// fifty argon2id computations.
		passwords := make([]string, len(rows))
		for i := range rows {
			passwords[i] = s.GeneratePassword(ctx)
			out[i].Password = passwords[i]
		}
		var err error
		if hashes, err = s.hashPasswords(ctx, passwords); err != nil {
			return nil, err
		}
	}
	err := s.st.Update(ctx, func(tx *store.Tx) error {
		// Checked again where it counts: another request may have created
		// users since.
		if err := s.checkBatch(ctx, tx.Reads, rows); err != nil {
			return err
		}
		for i, r := range rows {
			u := &store.User{UserID: newID(16), UserName: r.UserName, DisplayName: r.DisplayName}
			if err := tx.CreateUser(ctx, u); err != nil {
				if errors.Is(err, store.ErrConflict) {
					return batchError("EntityAlreadyExists.User", map[string]string{
						rowField("name", r.Row): "A user with this name already exists (names are not case-sensitive)."})
				}
				return err
			}
			ev := s.change(ctx, a, acct, "CreateUser", u.UserName, map[string]any{"UserName": u.UserName, "DisplayName": u.DisplayName,
				"Email": "", "MobilePhone": "", "Comments": ""})
			if err := tx.AppendEvent(ctx, ev); err != nil {
				return err
			}
			if access.ConsoleLogin {
				if err := s.putLoginProfileHash(ctx, tx, a, acct, u, hashes[i], access.PasswordResetRequired, access.MFABindRequired, "CreateLoginProfile"); err != nil {
					return err
				}
			}
			if access.AccessKey {
				k, err := s.createAccessKey(ctx, tx, a, acct, u)
				if err != nil {
					return err
				}
				out[i].AccessKey = k
			}
			out[i].User = u
		}
		return nil
	})
	if err != nil {
		return nil, s.refuseBatch(ctx, a, acct, rows, err)
	}
	return out, nil
}

// rowField is the Fields key of a field of a batch row.
func rowField(field string, row int) string { return fmt.Sprintf("%s.%d", field, row) }

func batchError(code string, fields map[string]string) *Error {
	return &Error{Kind: EINVALID, Code: code, Message: "Nothing was created: correct the rows marked below.", Fields: fields}
}

// checkBatch checks a batch's names together against what r holds.
func (s *Service) checkBatch(ctx context.Context, r store.Reads, rows []BatchUserInput) error {
	fields := map[string]string{}
	code := ""
	add := func(key, c, msg string) {
		if _, dup := fields[key]; dup {
			return
		}
		fields[key] = msg
		if code == "" {
			code = c
		}
	}
	if len(rows) == 0 {
		add("rows", "MissingParameter", "Type a user name in at least one row. Empty rows are left out.")
	}
	seen := map[string]int{} // lower-case name → the row that has it first
	var valid []int          // the rows whose names may be created, in order
	for i, row := range rows {
		if i >= MaxUsersPerBatch {
			add(rowField("name", row.Row), "LimitExceeded.Batch",
				fmt.Sprintf("One batch creates at most %d users: create this one in another batch.", MaxUsersPerBatch))
			continue
		}
		var fe fieldErrors
		in := UserInput{UserName: row.UserName, DisplayName: row.DisplayName}
		validateUser(&fe, &in, "")
		checkReservedUserName(&fe, "UserName", in.UserName, "")
		for f, msg := range fe.fields {
			add(rowField(f, row.Row), fe.code, msg)
		}
		if _, bad := fe.fields["name"]; bad {
			continue
		}
		lower := strings.ToLower(row.UserName)
		if first, dup := seen[lower]; dup {
			add(rowField("name", row.Row), "EntityAlreadyExists.User",
				fmt.Sprintf("Row %d has this name already (names are not case-sensitive).", first))
			continue
		}
		seen[lower] = row.Row
		if _, err := r.UserByName(ctx, row.UserName); err == nil {
			add(rowField("name", row.Row), "EntityAlreadyExists.User", "A user with this name already exists (names are not case-sensitive).")
			continue
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		valid = append(valid, i)
	}
	n, err := r.CountUsers(ctx)
	if err != nil {
		return err
	}
	if room := max(MaxUsers-n, 0); len(valid) > room {
		for _, i := range valid[room:] {
			add(rowField("name", rows[i].Row), "LimitExceeded.User",
				fmt.Sprintf("The account holds at most %d users and has %d: only %d more fit, so this row is over the limit.", MaxUsers, n, room))
		}
	}
	if len(fields) == 0 {
		return nil
	}
	return batchError(code, fields)
}

// refuseBatch records a refused batch as one failed CreateUser event that
// names the users asked for (each name cut to 64 characters).
func (s *Service) refuseBatch(ctx context.Context, a Actor, acct string, rows []BatchUserInput, err error) error {
	e, ok := AsError(err)
	if !ok || e.Kind == EFORBIDDEN {
		return err
	}
	var names []string
	for _, r := range rows[:min(len(rows), MaxUsersPerBatch+1)] {
		names = append(names, cutRunes(r.UserName, maxNameLength))
	}
	ev := s.change(ctx, a, acct, "CreateUser", "", map[string]any{"UserNames": names})
	if rerr := s.record(ctx, failEvent(ev, e.Code, e.Message)); rerr != nil {
		return rerr
	}
	return err
}

func cutRunes(v string, n int) string {
	if utf8.RuneCountInString(v) <= n {
		return v
	}
	return string([]rune(v)[:n])
}

// hashPasswords hashes passwords, GOMAXPROCS at a time (half of the hashing
// slots, so sign-ins still find one).
func (s *Service) hashPasswords(ctx context.Context, passwords []string) ([]string, error) {
	hashes := make([]string, len(passwords))
	errs := make([]error, len(passwords))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(passwords)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(passwords) {
					return
				}
				hashes[i], errs[i] = s.hashPassword(ctx, passwords[i])
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return hashes, nil
}
