// Command load is the load generator of relkey's benchmark (scripts/bench.sh).
// For each hot path it runs closed loops of -conns keep-alive connections
// against relkey and against the floor server, alternately, -pairs times
// for -duration each; it records throughput, latency percentiles and the CPU
// time the server process (and PostgreSQL's processes, with -pgdata) spent
// per request, read from /proc, and prints one Markdown table of the
// medians over the pairs. Then, unless -rss-duration is 0, it loads relkey's
// validate-key with -rss-conns connections and reports relkey's peak RSS.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// fixture is what test/bench/seed wrote.
type fixture struct {
	Account    string      `json:"account"`
	ProductID  string      `json:"product_id"`
	Version    string      `json:"version"`
	ArtifactID string      `json:"artifact_id"`
	Licenses   [][2]string `json:"licenses"` // id, key
}

// hotPath makes one request of a path and says which status answers it.
type hotPath struct {
	name  string
	want  int
	check string // the body must contain it (empty: not read)
	build func(base string) *http.Request
}

// target is a server under test.
type target struct {
	name   string
	url    string
	pid    int
	client *http.Client
}

// result is one run of one path against one target.
type result struct {
	rps, p50, p99   float64 // req/s, ms
	cpu, pgCPU      float64 // µs per request
	requests, fails int
	failure         string // the first unexpected answer
}

func main() {
	fixturePath := flag.String("fixture", "", "the seeder's JSON output")
	engine := flag.String("engine", "", "title of the table")
	relkeyURL := flag.String("relkey", "", "relkey's base URL")
	relkeyPID := flag.Int("relkey-pid", 0, "relkey's process id")
	floorURL := flag.String("floor", "", "the floor server's base URL")
	floorPID := flag.Int("floor-pid", 0, "the floor server's process id")
	pgdata := flag.String("pgdata", "", "PostgreSQL's data folder, to measure its CPU (empty: none)")
	duration := flag.Duration("duration", 5*time.Second, "length of each measured run")
	warmup := flag.Duration("warmup", time.Second, "unmeasured run of each path and server before the pairs")
	pairs := flag.Int("pairs", 3, "relkey/floor run pairs per path")
	conns := flag.Int("conns", 32, "concurrent connections")
	rssConns := flag.Int("rss-conns", 256, "connections of the RSS run")
	rssDuration := flag.Duration("rss-duration", 30*time.Second, "length of the RSS run (0: skip it)")
	only := flag.String("paths", "", "comma-separated names of the paths to measure (empty: all)")
	flag.Parse()
	if *fixturePath == "" || *relkeyURL == "" || *floorURL == "" || *relkeyPID == 0 || *floorPID == 0 || *pairs < 1 || *conns < 1 {
		log.Fatal("load: -fixture, -relkey, -relkey-pid, -floor and -floor-pid are required")
	}
	raw, err := os.ReadFile(*fixturePath)
	if err != nil {
		log.Fatal("load: ", err)
	}
	var fx fixture
	if err := json.Unmarshal(raw, &fx); err != nil || len(fx.Licenses) == 0 {
		log.Fatalf("load: %s is no seeder output (%v)", *fixturePath, err)
	}
	pg := newPostgres(*pgdata)
	relkey := &target{name: "relkey", url: *relkeyURL, pid: *relkeyPID, client: newClient(*conns)}
	floor := &target{name: "floor+sign", url: *floorURL, pid: *floorPID, client: newClient(*conns)}
	paths := hotPaths(&fx)
	if *only != "" {
		names := strings.Split(*only, ",")
		paths = slices.DeleteFunc(paths, func(p hotPath) bool { return !slices.Contains(names, p.name) })
		if len(paths) == 0 {
			log.Fatalf("load: -paths %q names no path", *only)
		}
	}

	fmt.Printf("### %s\n\n%d licenses, %d connections, %d pairs × %s per path (medians)\n\n",
		*engine, len(fx.Licenses), *conns, *pairs, *duration)
	cpuHeader := "CPU µs/req"
	if pg != nil {
		cpuHeader += " (+PostgreSQL)"
	}
	fmt.Printf("| path | relkey req/s | floor+sign req/s | floor/relkey | relkey p50 / p99 ms | floor p50 / p99 ms | relkey %s | floor %s |\n",
		cpuHeader, cpuHeader)
	fmt.Println("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	var failed []string
	for _, p := range paths {
		for _, t := range []*target{relkey, floor} {
			run(t, p, *conns, *warmup, pg)
		}
		var rs, fs []result
		for i := range *pairs {
			order := []*target{relkey, floor}
			if i%2 == 1 {
				slices.Reverse(order)
			}
			for _, t := range order {
				r := run(t, p, *conns, *duration, pg)
				if r.fails*100 > r.requests {
					failed = append(failed, fmt.Sprintf("%s on %s: %d of %d requests failed, e.g. %s", p.name, t.name, r.fails, r.requests, r.failure))
				}
				if t == relkey {
					rs = append(rs, r)
				} else {
					fs = append(fs, r)
				}
			}
		}
		m := func(rs []result, f func(result) float64) float64 {
			v := make([]float64, len(rs))
			for i, r := range rs {
				v[i] = f(r)
			}
			return median(v)
		}
		ratios := make([]float64, len(rs))
		for i := range rs {
			ratios[i] = fs[i].rps / rs[i].rps
		}
		cpu := func(rs []result) string {
			s := fmt.Sprintf("%.0f", m(rs, func(r result) float64 { return r.cpu }))
			if pg != nil {
				s += fmt.Sprintf(" (+%.0f)", m(rs, func(r result) float64 { return r.pgCPU }))
			}
			return s
		}
		fmt.Printf("| %s | %.0f | %.0f | %.2f× | %.2f / %.2f | %.2f / %.2f | %s | %s |\n", p.name,
			m(rs, func(r result) float64 { return r.rps }), m(fs, func(r result) float64 { return r.rps }),
			median(ratios),
			m(rs, func(r result) float64 { return r.p50 }), m(rs, func(r result) float64 { return r.p99 }),
			m(fs, func(r result) float64 { return r.p50 }), m(fs, func(r result) float64 { return r.p99 }),
			cpu(rs), cpu(fs))
	}
	fmt.Println()
	if *rssDuration > 0 {
		big := &target{name: "relkey", url: *relkeyURL, pid: *relkeyPID, client: newClient(*rssConns)}
		// The peak since relkey started includes the seeding and the other
		// paths; resetting it first gives the run's own peak too.
		before, err := peakRSS(*relkeyPID)
		if err != nil {
			log.Fatal("load: ", err)
		}
		if err := resetPeakRSS(*relkeyPID); err != nil {
			log.Fatal("load: ", err)
		}
		r := run(big, paths[0], *rssConns, *rssDuration, pg)
		during, err := peakRSS(*relkeyPID)
		if err != nil {
			log.Fatal("load: ", err)
		}
		fmt.Printf("relkey peak RSS (VmHWM) during %s of validate-key at c=%d: %s (%.0f req/s, p99 %.2f ms); before the run, since its start: %s\n\n",
			*rssDuration, *rssConns, during, r.rps, r.p99, before)
		if r.fails*100 > r.requests {
			failed = append(failed, fmt.Sprintf("RSS run: %d of %d requests failed, e.g. %s", r.fails, r.requests, r.failure))
		}
	}
	if len(failed) > 0 {
		log.Fatalf("load: more than 1%% of the requests failed; these numbers measure errors:\n  %s", strings.Join(failed, "\n  "))
	}
}

func median(v []float64) float64 {
	slices.Sort(v)
	return v[len(v)/2]
}

func newClient(conns int) *http.Client {
	return &http.Client{
		Transport: &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, DisableCompression: true},
		Timeout:   30 * time.Second,
		// The download's 303 is the answer measured, not followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// hotPaths are the four measured requests, each for a random license.
func hotPaths(fx *fixture) []hotPath {
	nonce := strconv.FormatInt(time.Now().UnixNano(), 36)
	var fingerprints atomic.Int64
	license := func() (id, key string) {
		l := fx.Licenses[rand.IntN(len(fx.Licenses))]
		return l[0], l[1]
	}
	request := func(method, url, key, body string) *http.Request {
		req, err := http.NewRequest(method, url, strings.NewReader(body))
		if err != nil {
			log.Fatal("load: ", err)
		}
		req.Header.Set("Content-Type", "application/vnd.api+json")
		if key != "" {
			req.Header.Set("Authorization", "License "+key)
		}
		return req
	}
	account := "/v1/accounts/" + fx.Account
	return []hotPath{
		{"validate-key", http.StatusOK, `"valid":true`, func(base string) *http.Request {
			_, key := license()
			return request("POST", base+account+"/licenses/actions/validate-key", "", `{"meta":{"key":"`+key+`"}}`)
		}},
		{"machine activation", http.StatusCreated, "", func(base string) *http.Request {
			id, key := license()
			fingerprint := fmt.Sprintf("bench-%s-%d", nonce, fingerprints.Add(1))
			return request("POST", base+account+"/machines", key, `{"data":{"type":"machines","attributes":{"fingerprint":"`+
				fingerprint+`"},"relationships":{"license":{"data":{"type":"licenses","id":"`+id+`"}}}}}`)
		}},
		{"upgrade", http.StatusOK, "", func(base string) *http.Request {
			_, key := license()
			return request("GET", base+account+"/releases/"+fx.Version+"/upgrade?product="+fx.ProductID, key, "")
		}},
		{"artifact download (303)", http.StatusSeeOther, "", func(base string) *http.Request {
			_, key := license()
			return request("GET", base+account+"/artifacts/"+fx.ArtifactID, key, "")
		}},
	}
}

// run loads t with p from conns connections for d.
func run(t *target, p hotPath, conns int, d time.Duration, pg *postgres) result {
	cpu0, pg0 := processCPU(t.pid), pg.cpu()
	start := time.Now()
	deadline := start.Add(d)
	latencies := make([][]time.Duration, conns)
	var fails atomic.Int64
	var failure sync.Once
	var res result
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				req := p.build(t.url)
				began := time.Now()
				err := do(t.client, req, p)
				latencies[i] = append(latencies[i], time.Since(began))
				if err != nil {
					fails.Add(1)
					failure.Do(func() { res.failure = err.Error() })
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	all := slices.Concat(latencies...)
	slices.Sort(all)
	n := len(all)
	res.requests, res.fails = n, int(fails.Load())
	if n == 0 {
		res.failure = "no request completed"
		res.fails = 1
		return res
	}
	ms := func(q float64) float64 { return float64(all[min(n-1, int(q*float64(n)))]) / float64(time.Millisecond) }
	res.rps, res.p50, res.p99 = float64(n)/elapsed.Seconds(), ms(0.50), ms(0.99)
	res.cpu = float64(processCPU(t.pid)-cpu0) / float64(time.Microsecond) / float64(n)
	res.pgCPU = float64(pg.cpu()-pg0) / float64(time.Microsecond) / float64(n)
	return res
}

func do(client *http.Client, req *http.Request, p hotPath) error {
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	switch {
	case err != nil:
		return err
	case resp.StatusCode != p.want:
		return fmt.Errorf("%d (want %d): %.300s", resp.StatusCode, p.want, body)
	case p.check != "" && !bytes.Contains(body, []byte(p.check)):
		return fmt.Errorf("no %s in %.300s", p.check, body)
	}
	return nil
}

// userHZ is the unit of /proc's CPU times, fixed at 100 for user space.
const userHZ = 100

// stat is a process's /proc/<pid>/stat fields after the command: field 3
// (state) is stat[0].
func stat(pid int) ([]string, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return nil, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return strings.Fields(string(raw[i+1:])), nil
}

// ticks sums the stat fields (1-based numbers of proc(5)) as CPU time.
func ticks(fields []string, numbers ...int) time.Duration {
	var sum int64
	for _, n := range numbers {
		v, _ := strconv.ParseInt(fields[n-3], 10, 64)
		sum += v
	}
	return time.Duration(sum) * time.Second / userHZ
}

// processCPU is the user+system CPU time of a process (utime, stime).
func processCPU(pid int) time.Duration {
	fields, err := stat(pid)
	if err != nil {
		log.Fatalf("load: the server process %d: %v", pid, err)
	}
	return ticks(fields, 14, 15)
}

// postgres measures one PostgreSQL cluster's CPU: the postmaster's and its
// children's, with the time of children that ended (cutime, cstime).
type postgres struct{ postmaster int }

func newPostgres(pgdata string) *postgres {
	if pgdata == "" {
		return nil
	}
	raw, err := os.ReadFile(filepath.Join(pgdata, "postmaster.pid"))
	if err != nil {
		log.Fatal("load: PostgreSQL's pid: ", err)
	}
	pid, err := strconv.Atoi(strings.SplitN(string(raw), "\n", 2)[0])
	if err != nil {
		log.Fatal("load: postmaster.pid: ", err)
	}
	return &postgres{postmaster: pid}
}

func (p *postgres) cpu() time.Duration {
	if p == nil {
		return 0
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		log.Fatal("load: ", err)
	}
	var total time.Duration
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		fields, err := stat(pid)
		if err != nil {
			continue // ended meanwhile
		}
		if ppid, _ := strconv.Atoi(fields[1]); pid == p.postmaster || ppid == p.postmaster {
			total += ticks(fields, 14, 15, 16, 17)
		}
	}
	return total
}

// resetPeakRSS sets a process's VmHWM to its current RSS (clear_refs 5,
// Linux 4.0 and later).
func resetPeakRSS(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// peakRSS is a process's VmHWM line of /proc/<pid>/status.
func peakRSS(pid int) (string, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "", err
	}
	for line := range strings.Lines(string(raw)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%.0f MiB", float64(kb)/1024), nil
		}
	}
	return "", errors.New("no VmHWM in /proc/" + strconv.Itoa(pid) + "/status")
}
