// ramconsole oidc rotate-key: a new ID-token signing key.

package main

import (
	"context"
	"fmt"
	"io"
)

// rotateOIDCKey makes a new signing key the current one, as the owner does
// on the settings page; the previous key stays published for a day so the
// tokens it signed still verify.
func rotateOIDCKey(args []string, stdout, stderr io.Writer) error {
	ctx := context.Background()
	svc, a, done, err := hostCommand(ctx, "oidc rotate-key", args, stderr)
	if err != nil {
		return err
	}
	defer done()
	kid, err := svc.RotateSigningKey(ctx, a)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "New signing key %s; the previous key stays published for 24 hours.\n", kid)
	return nil
}
