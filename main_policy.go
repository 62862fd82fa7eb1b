// ramconsole policy validate and eval: policy documents checked offline.

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"ramconsole/policy"
)

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// policyCommand runs `ramconsole policy validate|eval`: exit 0 when a
// document is valid or a request allowed, 1 otherwise, 2 on bad usage.
func policyCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "validate":
		fs := flag.NewFlagSet("policy validate", flag.ContinueOnError)
		fs.SetOutput(stderr)
		trust := fs.Bool("trust", false, "the document is a role's trust policy")
		if err := fs.Parse(args[1:]); err != nil {
			return 2
		}
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, "usage: ramconsole policy validate [--trust] FILE")
			return 2
		}
		file := fs.Arg(0)
		text, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintln(stderr, "ramconsole:", err)
			return 2
		}
		parse := policy.Parse
		if *trust {
			parse = policy.ParseTrust
		}
		if _, err := parse(string(text)); err != nil {
			printPolicyProblems(stdout, file, err)
			return 1
		}
		fmt.Fprintf(stdout, "%s: valid\n", file)
		return 0
	case "eval":
		fs := flag.NewFlagSet("policy eval", flag.ContinueOnError)
		fs.SetOutput(stderr)
		var files, resources, contexts listFlag
		fs.Var(&files, "policy", "policy document file (repeatable)")
		fs.Var(&resources, "resource", "resource ARN (repeatable)")
		fs.Var(&contexts, "context", "condition key=value (repeatable)")
		action := fs.String("action", "", "the action, e.g. ram:CreateUser")
		if err := fs.Parse(args[1:]); err != nil {
			return 2
		}
		if len(files) == 0 || *action == "" || len(resources) == 0 {
			fmt.Fprintln(stderr, "usage: ramconsole policy eval --policy FILE... --action A --resource R... [--context k=v]...")
			return 2
		}
		var compiled []*policy.Compiled
		for _, f := range files {
			text, err := os.ReadFile(f)
			if err != nil {
				fmt.Fprintln(stderr, "ramconsole:", err)
				return 2
			}
			doc, err := policy.Parse(string(text))
			if err != nil {
				printPolicyProblems(stderr, f, err)
				return 2
			}
			compiled = append(compiled, policy.Compile(policy.Source{Type: "Custom", Name: f, Version: "v1"}, doc))
		}
		var pc policy.Context
		for _, kv := range contexts {
			k, v, err := policy.ParseContextArg(kv)
			if err != nil {
				fmt.Fprintln(stderr, "ramconsole:", err)
				return 2
			}
			pc.Set(k, v)
		}
		res := policy.NewSet(compiled...).Explain(&policy.Request{Action: *action, Resources: resources, Context: &pc})
		if err := res.WriteText(stdout); err != nil {
			fmt.Fprintln(stderr, "ramconsole:", err)
			return 2
		}
		if res.Decision != policy.Allow {
			return 1
		}
		return 0
	}
	fmt.Fprintf(stderr, "ramconsole: unknown policy command %q\n", args[0])
	return 2
}

func printPolicyProblems(w io.Writer, file string, err error) {
	var ve *policy.ValidationError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			fmt.Fprintf(w, "%s: %s\n", file, p)
		}
		return
	}
	fmt.Fprintf(w, "%s: %v\n", file, err)
}
