// Package auditlog records the loader's refusals where an administrator
// looks: the local syslog socket (facility AUTH, priority WARNING, tagged with
// the app's name) on Linux and other Unix systems, the Application event log
// (a warning event whose source is the app's name) on Windows.
//
// Logging is best effort: Refusal never fails its caller, gives up after a
// short time budget, and does nothing where no log is available (no
// /dev/log, e.g. in a minimal container). Each problem line becomes one
// record; a very long list is cut to maxRecords records, the last one saying
// how many were left out. Lines come from a hostile tree, so control
// characters are replaced and lines are cut to maxLineBytes.
package auditlog

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	// maxRecords bounds the records sent for one refusal.
	maxRecords = 100
	// maxLineBytes bounds one record's text.
	maxLineBytes = 1024
	// maxTagBytes bounds the tag (syslog) / event source (Windows).
	maxTagBytes = 48
	// budget is the longest Refusal waits for the log.
	budget = 2 * time.Second
	// prefix starts every record.
	prefix = "refused to start: "
)

// socketPaths are the local syslog sockets tried in order on Unix systems
// (as log/syslog does); tests point it at their own socket.
var socketPaths = []string{"/dev/log", "/var/run/syslog", "/var/run/log"}

// Refusal records that app refused to start, one record per line. It
// returns within about two seconds whatever the log does.
func Refusal(app string, lines []string) {
	if len(lines) == 0 {
		return
	}
	tag := sanitizeTag(app)
	records := prepare(lines)
	sockets := socketPaths
	done := make(chan struct{})
	go func() {
		defer close(done)
		send(sockets, tag, records, time.Now().Add(budget))
	}()
	timer := time.NewTimer(budget)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
	}
}

// prepare sanitizes the lines and caps their number.
func prepare(lines []string) []string {
	n := len(lines)
	if n > maxRecords {
		n = maxRecords - 1
	}
	records := make([]string, 0, n+1)
	for _, l := range lines[:n] {
		records = append(records, prefix+sanitizeLine(l))
	}
	if n < len(lines) {
		records = append(records, prefix+"... and "+strconv.Itoa(len(lines)-n)+" more problems")
	}
	return records
}

// sanitizeLine replaces control characters and invalid UTF-8 and cuts the
// line to maxLineBytes without splitting a character.
func sanitizeLine(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				r = '?'
			}
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			r = '?'
		}
		if b.Len()+utf8.RuneLen(r) > maxLineBytes {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

// sanitizeTag keeps letters, digits, '.', '_' and '-' of the app name.
func sanitizeTag(app string) string {
	var b strings.Builder
	for _, r := range app {
		if b.Len() >= maxTagBytes {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "signet"
	}
	return b.String()
}
