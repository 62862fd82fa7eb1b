// ramconsole audit verify: the audit log's hash chain, checked from the host.

package main

import (
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"ramconsole/store"
)

func auditVerify(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := dataFlag(fs)
	expectHead := fs.String("expect-head", "", "SEQ:HASH of a head kept from an earlier verification or checkpoint; the chain must still hold it")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var expect store.ChainMark
	if *expectHead != "" {
		var ok bool
		if expect, ok = parseHead(*expectHead); !ok {
			fmt.Fprintf(stderr, "ramconsole: --expect-head %q: use SEQ:HASH (a seq from 1 and the event's 64-character hex hash)\n", *expectHead)
			return 2
		}
	}
	ctx := context.Background()
	st, _, err := openStore(ctx, *dataDir, databaseOf(fs), false, cliLogger(stderr))
	if err != nil {
		fmt.Fprintln(stderr, "ramconsole:", err)
		return 1
	}
	defer st.Close()
	var rep store.ChainReport
	if expect.Seq > 0 {
		rep, err = st.VerifyChainExpecting(ctx, expect)
	} else {
		rep, err = st.VerifyChain(ctx)
	}
	if err != nil {
		fmt.Fprintln(stderr, "ramconsole:", err)
		return 1
	}
	if !rep.OK {
		id := rep.EventID
		if id == "" {
			id = "unknown"
		}
		fmt.Fprintf(stdout, "audit chain BROKEN at event seq %d (eventId %s): %s\n", rep.BrokenAt, id, rep.Reason)
		return 1
	}
	if rep.Checkpoint > 0 {
		fmt.Fprintf(stdout, "audit chain intact: %d events verified after the retention checkpoint at seq %d\n", rep.Events, rep.Checkpoint)
	} else {
		fmt.Fprintf(stdout, "audit chain intact: %d events verified\n", rep.Events)
	}
	if rep.Anchor > 0 {
		fmt.Fprintf(stdout, "events before seq %d are plain SHA-256 (written before the chain was keyed); the keyed chain starts at the re-anchor, seq %d of %s\n",
			rep.Anchor, rep.Anchor, rep.AnchorTime)
	}
	if rep.HeadCheckpoint > 0 {
		fmt.Fprintf(stdout, "reaches the newest signed head checkpoint (seq %d)\n", rep.HeadCheckpoint)
	}
	if expect.Seq > 0 {
		fmt.Fprintf(stdout, "holds the expected head %d:%s\n", expect.Seq, expect.Hash)
	}
	if rep.Head.Seq > 0 {
		fmt.Fprintf(stdout, "head: %d:%s (keep it to check later with --expect-head)\n", rep.Head.Seq, rep.Head.Hash)
	}
	return 0
}

// parseHead reads SEQ:HASH.
func parseHead(v string) (store.ChainMark, bool) {
	seqText, hash, ok := strings.Cut(strings.TrimSpace(v), ":")
	seq, err := strconv.ParseInt(seqText, 10, 64)
	if !ok || err != nil || seq <= 0 || len(hash) != 64 {
		return store.ChainMark{}, false
	}
	if _, err := hex.DecodeString(hash); err != nil {
		return store.ChainMark{}, false
	}
	return store.ChainMark{Seq: seq, Hash: strings.ToLower(hash)}, true
}
