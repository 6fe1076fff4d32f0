// Command startbench times commands against each other in interleaved rounds and prints a
// Markdown table that can be pasted into BENCHMARKS.md.
//
//	startbench [-n 30] [-warmup 5] [-dir DIR] [-bytes N] [-same-output]
//	           [-ratio 'a/b<=1.10']... -- NAME ARGV... --- NAME ARGV... [--- ...]
//
// Each round runs every command once, in an order rotated by one each round, so that no
// command always runs first or right after the same neighbour. Wall time is measured with
// time.Now around start and wait of the child; CPU time (user+sys) and peak RSS come from
// the child's rusage (wait4, the same source as /usr/bin/time). A ratio a/b is the median
// over rounds of a's time divided by b's time in the same round, which cancels slow drift
// of a shared machine better than a ratio of medians; a target applies to that wall-time
// ratio. The median per-round CPU ratio is printed beside it: on a busy machine it is
// the steadier of the two. Every run must exit 0; -same-output
// also requires every command to print the same stdout (checked in the warm-up rounds).
//
// An argument "@@FILE" stands for the lines of FILE, one argument each (e.g. the 5,000 file
// names given to openssl), so the printed command list stays short.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/signet-dev/signet/signet/internal/bench/stats"
)

// command is one named argument vector to time.
type command struct {
	name string
	argv []string
}

// sample is what the rounds measured for one command.
type sample struct {
	wall, cpu []time.Duration
	maxRSSKiB int64
}

// ratioSpec is one requested ratio a/b, with an optional target.
type ratioSpec struct {
	a, b   string
	op     string // "", "<=" or ">="
	target float64
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "startbench: %v\n", err)
		os.Exit(1)
	}
}

type ratioFlags []ratioSpec

func (r *ratioFlags) String() string { return fmt.Sprint(len(*r)) }

func (r *ratioFlags) Set(s string) error {
	spec, err := parseRatio(s)
	if err != nil {
		return err
	}
	*r = append(*r, spec)
	return nil
}

// parseRatio parses "a/b", "a/b<=1.10" or "a/b>=0.9".
func parseRatio(s string) (ratioSpec, error) {
	var spec ratioSpec
	body := s
	for _, op := range []string{"<=", ">="} {
		if i := strings.Index(s, op); i >= 0 {
			t, err := strconv.ParseFloat(s[i+len(op):], 64)
			if err != nil || t <= 0 {
				return spec, fmt.Errorf("ratio %q: bad target", s)
			}
			spec.op, spec.target, body = op, t, s[:i]
			break
		}
	}
	a, b, ok := strings.Cut(body, "/")
	if !ok || a == "" || b == "" {
		return spec, fmt.Errorf("ratio %q: want NAME/NAME[<=X|>=X]", s)
	}
	spec.a, spec.b = a, b
	return spec, nil
}

// parseCommands splits "NAME ARGV... --- NAME ARGV..." into commands.
func parseCommands(args []string) ([]command, error) {
	var cmds []command
	seen := map[string]bool{}
	for len(args) > 0 {
		end := len(args)
		for i, a := range args {
			if a == "---" {
				end = i
				break
			}
		}
		group := args[:end]
		if len(group) < 2 {
			return nil, fmt.Errorf("command group %q: want NAME ARGV...", strings.Join(group, " "))
		}
		if seen[group[0]] {
			return nil, fmt.Errorf("command name %q used twice", group[0])
		}
		seen[group[0]] = true
		cmds = append(cmds, command{name: group[0], argv: group[1:]})
		if end == len(args) {
			break
		}
		args = args[end+1:]
		if len(args) == 0 {
			return nil, errors.New("nothing after the last ---")
		}
	}
	if len(cmds) == 0 {
		return nil, errors.New("no commands given (after --)")
	}
	return cmds, nil
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("startbench", flag.ContinueOnError)
	n := fs.Int("n", 30, "measured rounds")
	warmup := fs.Int("warmup", 5, "warm-up rounds (not measured)")
	dir := fs.String("dir", "", "working directory of the commands")
	nbytes := fs.Int64("bytes", 0, "bytes each command processes: adds a throughput column")
	sameOutput := fs.Bool("same-output", false, "require every command to print the same stdout")
	title := fs.String("title", "", "heading printed above the table")
	var ratios ratioFlags
	fs.Var(&ratios, "ratio", "report the per-round ratio NAME/NAME, optionally with a target (<=X or >=X); repeatable")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 || *warmup < 0 {
		return errors.New("-n must be at least 1 and -warmup not negative")
	}
	cmds, err := parseCommands(fs.Args())
	if err != nil {
		return err
	}
	runnable := make([]command, len(cmds))
	for i, c := range cmds {
		argv, err := expandArgFiles(c.argv)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		runnable[i] = command{name: c.name, argv: argv}
	}
	index := map[string]int{}
	for i, c := range cmds {
		index[c.name] = i
	}
	for _, r := range ratios {
		for _, name := range []string{r.a, r.b} {
			if _, ok := index[name]; !ok {
				return fmt.Errorf("ratio %s/%s: no command named %q", r.a, r.b, name)
			}
		}
	}

	samples := make([]sample, len(cmds))
	var firstOut []byte
	for round := 0; round < *warmup+*n; round++ {
		measured := round >= *warmup
		for k := range cmds {
			i := (round + k) % len(cmds)
			var stdout *bytes.Buffer
			if !measured && *sameOutput {
				stdout = new(bytes.Buffer)
			}
			var w io.Writer
			if stdout != nil {
				w = stdout
			}
			wall, cpu, rss, err := runOnce(runnable[i], *dir, w)
			if err != nil {
				return err
			}
			if stdout != nil {
				if firstOut == nil {
					firstOut = append([]byte{}, stdout.Bytes()...)
				} else if !bytes.Equal(firstOut, stdout.Bytes()) {
					return fmt.Errorf("%s printed %q, another command printed %q", cmds[i].name, stdout.Bytes(), firstOut)
				}
			}
			if !measured {
				continue
			}
			s := &samples[i]
			s.wall = append(s.wall, wall)
			s.cpu = append(s.cpu, cpu)
			s.maxRSSKiB = max(s.maxRSSKiB, rss)
		}
	}
	return report(out, *title, cmds, samples, ratios, index, *n, *warmup, *nbytes)
}

// expandArgFiles replaces every "@@FILE" argument by the lines of FILE.
func expandArgFiles(argv []string) ([]string, error) {
	var out []string
	for _, a := range argv {
		name, ok := strings.CutPrefix(a, "@@")
		if !ok {
			out = append(out, a)
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("reading arguments: %w", err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if line != "" {
				out = append(out, line)
			}
		}
	}
	return out, nil
}

// runOnce runs c once and returns its wall time, CPU time and peak RSS in KiB.
func runOnce(c command, dir string, stdout io.Writer) (time.Duration, time.Duration, int64, error) {
	cmd := exec.Command(c.argv[0], c.argv[1:]...)
	cmd.Dir = dir
	cmd.Stdout = stdout
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, 0, fmt.Errorf("%s: %w", c.name, err)
	}
	err := cmd.Wait()
	wall := time.Since(start)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("%s: %w; stderr:\n%s", c.name, err, stderr.Bytes())
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return wall, cpu, peakRSSKiB(cmd.ProcessState), nil
}

func report(out io.Writer, title string, cmds []command, samples []sample, ratios []ratioSpec,
	index map[string]int, n, warmup int, nbytes int64) error {
	if title != "" {
		fmt.Fprintf(out, "### %s\n\n", title)
	}
	fmt.Fprintf(out, "%d measured rounds after %d warm-up rounds; each round runs every command once, order rotated.\n\n", n, warmup)
	head := "| command | min | median | max | median CPU (user+sys) | peak RSS |"
	sep := "|---|---:|---:|---:|---:|---:|"
	if nbytes > 0 {
		head += " throughput (median) |"
		sep += "---:|"
	}
	fmt.Fprintln(out, head)
	fmt.Fprintln(out, sep)
	for i, c := range cmds {
		w, err := stats.Summarize(samples[i].wall)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		cpu, err := stats.Summarize(samples[i].cpu)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		fmt.Fprintf(out, "| %s | %s | %s | %s | %s | %.1f MiB |", c.name, stats.Millis(w.Min),
			stats.Millis(w.Median), stats.Millis(w.Max), stats.Millis(cpu.Median), float64(samples[i].maxRSSKiB)/1024)
		if nbytes > 0 {
			fmt.Fprintf(out, " %.0f MB/s |", float64(nbytes)/w.Median.Seconds()/1e6)
		}
		fmt.Fprintln(out)
	}
	if len(ratios) > 0 {
		fmt.Fprintln(out)
		fmt.Fprintln(out, "| ratio (per round, wall) | min | median | max | target | met | median CPU ratio |")
		fmt.Fprintln(out, "|---|---:|---:|---:|---|---|---:|")
		for _, r := range ratios {
			rs, err := stats.Ratios(samples[index[r.a]].wall, samples[index[r.b]].wall)
			if err != nil {
				return fmt.Errorf("ratio %s/%s: %w", r.a, r.b, err)
			}
			cpuRatio := "-" // a command may use no measurable CPU time
			if cpu, err := stats.Ratios(samples[index[r.a]].cpu, samples[index[r.b]].cpu); err == nil {
				cpuRatio = fmt.Sprintf("%.3f", cpu.Median)
			}
			target, met := "-", "-"
			if r.op != "" {
				target = fmt.Sprintf("%s %.2f", r.op, r.target)
				ok := rs.Median <= r.target
				if r.op == ">=" {
					ok = rs.Median >= r.target
				}
				met = map[bool]string{true: "yes", false: "**no**"}[ok]
			}
			fmt.Fprintf(out, "| %s / %s | %.3f | %.3f | %.3f | %s | %s | %s |\n",
				r.a, r.b, rs.Min, rs.Median, rs.Max, target, met, cpuRatio)
		}
	}
	fmt.Fprintln(out)
	fmt.Fprintln(out, "Commands:")
	fmt.Fprintln(out)
	for _, c := range cmds {
		fmt.Fprintf(out, "- `%s`: `%s`\n", c.name, strings.Join(c.argv, " "))
	}
	fmt.Fprintln(out)
	return nil
}
