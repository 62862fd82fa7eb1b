// ramconsole owner …: the owner's way back in, run on the host.

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

func resetOwnerMFA(args []string, stdout, stderr io.Writer) error {
	ctx := context.Background()
	svc, a, done, err := hostCommand(ctx, "owner reset-mfa", args, stderr)
	if err != nil {
		return err
	}
	defer done()
	res, err := svc.ResetOwnerMFA(ctx, a)
	if err != nil {
		return err
	}
	for _, m := range res.Moved {
		fmt.Fprintf(stdout, "Another device held the owner's serial; it was renamed (%s).\n", m)
	}
	if res.KeysRemoved > 0 {
		fmt.Fprintf(stdout, "The owner's %d security key(s) were removed.\n", res.KeysRemoved)
	}
	if res.Removed || res.KeysRemoved > 0 {
		fmt.Fprintln(stdout, "The owner's MFA device was removed; the owner binds a new one at the next sign-in.")
	} else {
		fmt.Fprintln(stdout, "The owner has no MFA device: nothing to remove; the owner binds one at the next sign-in.")
	}
	return nil
}

func unlockOwner(args []string, stdout, stderr io.Writer) error {
	ctx := context.Background()
	svc, a, done, err := hostCommand(ctx, "owner unlock", args, stderr)
	if err != nil {
		return err
	}
	defer done()
	if err := svc.UnlockOwner(ctx, a); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "The owner is unlocked: the failed sign-in count is cleared.")
	return nil
}

func resetOwnerPassword(args []string, stdout, stderr io.Writer) error {
	ctx := context.Background()
	svc, a, done, err := hostCommand(ctx, "owner reset-password", args, stderr)
	if err != nil {
		return err
	}
	defer done()
	pw, confirm, err := readNewPassword(stdin, stderr)
	if err != nil {
		return err
	}
	if err := svc.ResetOwnerPassword(ctx, a, pw, confirm); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "The owner's password is set: every owner session ended and the lockout is cleared.")
	return nil
}

// readNewPassword reads the new password and its confirmation: without echo
// from a terminal, else as two lines.
func readNewPassword(in io.Reader, prompt io.Writer) (string, string, error) {
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		read := func(label string) (string, error) {
			fmt.Fprint(prompt, label)
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(prompt)
			return string(b), err
		}
		pw, err := read("New owner password: ")
		if err != nil {
			return "", "", err
		}
		confirm, err := read("Again: ")
		return pw, confirm, err
	}
	r := bufio.NewReader(io.LimitReader(in, 64<<10))
	var lines [2]string
	for i := range lines {
		line, err := r.ReadString('\n')
		if err != nil && (err != io.EOF || line == "") {
			return "", "", errors.New("give the new password twice, one line each, on standard input")
		}
		lines[i] = strings.TrimRight(line, "\r\n")
	}
	return lines[0], lines[1], nil
}
