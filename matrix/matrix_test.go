package matrix

import (
	"slices"
	"testing"

	"github.com/beianbot/beianbot/lang"
)

// sourceTable is the table of the source page, copied by hand: 有 = true,
// "/" = false. It duplicates data/matrix.yaml on purpose, to check it.
var sourceTable = []struct {
	business, subcase  string
	principal, website bool
}{
	{"首次备案", "", true, true},
	{"新增网站", "", true, true},
	{"新增接入", "", false, true},
	{"变更备案", "仅主体变更", true, false},
	{"变更备案", "主体网站均变更", true, true},
	{"变更备案", "网站变更", false, true},
	{"变更备案", "仅接入变更", false, false},
	{"变更主体", "不涉及变更省份", true, false},
	{"变更主体", "涉及变更所在省", false, false},
	{"变更网站", "", false, true},
	{"变更接入", "", false, false},
	{"域名迁移", "", false, false},
	{"网站迁移", "", false, false},
	{"注销主体", "接入商发起", true, false},
	{"注销网站", "接入商发起", false, false},
	{"取消接入", "接入商发起", false, false},
}

func embeddedTable(t testing.TB) *Table {
	t.Helper()
	tb, err := Embedded()
	if err != nil {
		t.Fatalf("Embedded: %v", err)
	}
	return tb
}

func TestEmbeddedEqualsSourceTable(t *testing.T) {
	rows := embeddedTable(t).Rows()
	if len(rows) != len(sourceTable) {
		t.Fatalf("embedded table has %d rows, source has %d", len(rows), len(sourceTable))
	}
	for i, want := range sourceTable {
		got := rows[i]
		if got.Business != want.business || got.Subcase != want.subcase ||
			got.Principal != want.principal || got.Website != want.website {
			t.Errorf("row %d = %s %q principal=%v website=%v, source says %s %q principal=%v website=%v",
				i+1, got.Business, got.Subcase, got.Principal, got.Website,
				want.business, want.subcase, want.principal, want.website)
		}
		if got.BusinessEN == "" || (got.Subcase != "") != (got.SubcaseEN != "") {
			t.Errorf("row %d (%s): English names %q / %q incomplete", i+1, got.Label(lang.ZH), got.BusinessEN, got.SubcaseEN)
		}
	}
}

func TestBusinessesAndRowsOf(t *testing.T) {
	tb := embeddedTable(t)
	want := []string{"首次备案", "新增网站", "新增接入", "变更备案", "变更主体", "变更网站", "变更接入",
		"域名迁移", "网站迁移", "注销主体", "注销网站", "取消接入"}
	if got := tb.Businesses(); !slices.Equal(got, want) {
		t.Errorf("Businesses() = %v, want %v", got, want)
	}
	for _, tc := range []struct {
		business string
		subcases []string
	}{
		{"变更备案", []string{"仅主体变更", "主体网站均变更", "网站变更", "仅接入变更"}},
		{"变更主体", []string{"不涉及变更省份", "涉及变更所在省"}},
		{"首次备案", []string{""}},
		{"注销网站", []string{"接入商发起"}},
		{"不存在", nil},
	} {
		var got []string
		for _, r := range tb.RowsOf(tc.business) {
			got = append(got, r.Subcase)
		}
		if !slices.Equal(got, tc.subcases) {
			t.Errorf("RowsOf(%s) subcases = %q, want %q", tc.business, got, tc.subcases)
		}
	}
}

func TestRowsReturnsACopy(t *testing.T) {
	tb := embeddedTable(t)
	rows := tb.Rows()
	rows[0].Principal = !rows[0].Principal
	if tb.Rows()[0].Principal == rows[0].Principal {
		t.Error("changing the slice from Rows() changed the table")
	}
}

func TestLabel(t *testing.T) {
	tb := embeddedTable(t)
	for _, tc := range []struct {
		row    int
		zh, en string
	}{
		{0, "首次备案", "First-time filing"},
		{7, "变更主体 / 不涉及变更省份", "Change entity / province unchanged"},
		{15, "取消接入 / 接入商发起", "Cancel access / initiated by the access provider"},
	} {
		r := tb.Rows()[tc.row]
		if got := r.Label(lang.ZH); got != tc.zh {
			t.Errorf("Label(zh) = %q, want %q", got, tc.zh)
		}
		if got := r.Label(lang.EN); got != tc.en {
			t.Errorf("Label(en) = %q, want %q", got, tc.en)
		}
	}
}

func TestZeroTable(t *testing.T) {
	var tb Table
	if m := tb.Select(read(t, "变更主体")); len(m.Rows) != 0 {
		t.Errorf("zero Table found rows %v", m.Rows)
	}
	if len(tb.Rows()) != 0 || len(tb.Businesses()) != 0 {
		t.Error("zero Table has rows")
	}
}
