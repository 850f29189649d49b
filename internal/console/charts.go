package console

import (
	"math"
	"strconv"
	"time"

	"github.com/relkey/relkey/internal/analytics"
	"github.com/relkey/relkey/internal/apperr"
)

// The overview's charts: SVG drawn on the server from the analytics API's
// reads (no script), each with a title, a description and its numbers as
// a table for those who do not see it.

// Chart geometry, in SVG user units.
const (
	chartWidth     = 600
	columnsHeight  = 120
	barHeight      = 18
	barGap         = 6
	barLabelWidth  = 160
	chartRows      = 8 // bars a horizontal chart shows at most
	activeDaysShow = 30
)

// chart is one drawn chart.
type chart struct {
	ID, Title, Desc string
	Width, Height   int
	Bars            []chartBar
	Empty           bool // no data in the window
}

// chartBar is one bar and its figure.
type chartBar struct {
	Label, Value string
	X, Y, W, H   float64
	TextX, TextY float64
}

func num(n int64) string { return strconv.FormatInt(n, 10) }

// unit rounds a coordinate to a tenth.
func unit(x float64) float64 { return math.Round(x*10) / 10 }

// columnChart draws one column per value from the left, scaled to the largest.
func columnChart(id, title, desc string, labels []string, values []int64) chart {
	c := chart{ID: id, Title: title, Desc: desc, Width: chartWidth, Height: columnsHeight + 20, Empty: true}
	top := int64(0)
	for _, v := range values {
		top = max(top, v)
	}
	step := float64(chartWidth) / float64(max(len(values), 1))
	for i, v := range values {
		h := 0.0
		if top > 0 {
			h = float64(v) / float64(top) * columnsHeight
		}
		if v > 0 {
			c.Empty = false
		}
		c.Bars = append(c.Bars, chartBar{Label: labels[i], Value: num(v), X: unit(float64(i)*step + 1), Y: unit(columnsHeight - h), W: unit(step - 2), H: unit(h)})
	}
	return c
}

// barChart draws one horizontal bar per value, labelled, scaled to the largest.
func barChart(id, title, desc string, labels, figures []string, values []int64) chart {
	n := min(len(values), chartRows)
	c := chart{ID: id, Title: title, Desc: desc, Width: chartWidth, Height: max(n, 1) * (barHeight + barGap), Empty: n == 0}
	top := int64(0)
	for _, v := range values[:n] {
		top = max(top, v)
	}
	span := float64(chartWidth - barLabelWidth - 80)
	for i := range n {
		w := 0.0
		if top > 0 {
			w = float64(values[i]) / float64(top) * span
		}
		y := float64(i * (barHeight + barGap))
		c.Bars = append(c.Bars, chartBar{Label: labels[i], Value: figures[i], X: barLabelWidth, Y: y, W: unit(w), H: barHeight,
			TextX: unit(barLabelWidth + w + 4), TextY: y + barHeight - 5})
	}
	return c
}

// usage is the overview's analytics: devices now, today and over 30 days,
// and the charts.
type usage struct {
	Now, Today, Month int64
	Charts            []chart
}

// usageOf reads the last 30 days of analytics who may read; nil when who
// may not.
func (p *Pages) usageOf(q *request) (*usage, error) {
	if p.Analytics == nil {
		return nil, nil
	}
	window := analytics.Query{}
	active, err := p.Analytics.ActiveDevices(q.ctx, q.who, q.tenant, window, "day")
	if apperr.Is(err, apperr.Forbidden) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	validations, err := p.Analytics.Counts(q.ctx, q.who, q.tenant, window, analytics.DimResult, analytics.Validation)
	if err != nil {
		return nil, err
	}
	versions, err := p.Analytics.Breakdown(q.ctx, q.who, q.tenant, window, analytics.DimVersion)
	if err != nil {
		return nil, err
	}
	u := &usage{Now: active.Realtime, Month: active.Total}
	perDay := map[string]int64{}
	for _, pt := range active.Series {
		perDay[pt.Date] = pt.Count
	}
	to, err := time.Parse(time.DateOnly, active.To)
	if err != nil {
		return nil, err
	}
	days, counts := make([]string, activeDaysShow), make([]int64, activeDaysShow)
	for i := range activeDaysShow {
		day := to.AddDate(0, 0, i-activeDaysShow+1).Format(time.DateOnly)
		days[i], counts[i] = day, perDay[day]
	}
	u.Today = counts[len(counts)-1]
	u.Charts = append(u.Charts, columnChart("chart-active", "Active devices per day",
		"Distinct devices seen each day from "+days[0]+" to "+days[len(days)-1]+"; today "+num(u.Today)+".", days, counts))

	var codes, codeFigures []string
	var codeCounts []int64
	for _, t := range validations.Totals {
		codes, codeFigures, codeCounts = append(codes, t.Value), append(codeFigures, num(t.Count)), append(codeCounts, t.Count)
	}
	u.Charts = append(u.Charts, barChart("chart-validations", "Validations by code",
		"License validations over the last 30 days, per result code, most frequent first.", codes, codeFigures, codeCounts))

	var versionNames, shares []string
	var devices []int64
	for _, s := range versions.Totals {
		name := s.Value
		if name == "" {
			name = "unknown"
		}
		versionNames = append(versionNames, name)
		shares = append(shares, num(s.Devices)+" ("+strconv.FormatFloat(s.Share*100, 'f', 0, 64)+"%)")
		devices = append(devices, s.Devices)
	}
	u.Charts = append(u.Charts, barChart("chart-versions", "Version adoption",
		"Devices per application version over the last 30 days, with each version's share.", versionNames, shares, devices))
	return u, nil
}
