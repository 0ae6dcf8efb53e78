// 一企一档: the printable dossier of one enterprise at `/?dossier=<id>`
// (GET /api/enterprises/{id}/dossier), rendered in place of the map by the
// same bundle: registration data, the four-colour level with its factors,
// units with their GB 18218 grades, the 重大危险源 registration record, the
// external-safety-distance report, the hidden dangers with their histories
// and the accidents. `@media print` in style.css makes the browser's print a
// clean document.
import { STRINGS } from './i18n.js';
import { reportHtml } from './safety.js';
import { fmtTime } from './dangers.js';
import { COLOURS, esc, fill, fmt } from './util.js';

const TEXT_ON = { red: '#fff', orange: '#fff', yellow: '#212121', blue: '#fff' };

function initialLang() {
  const q = new URLSearchParams(location.search).get('lang');
  if (q === 'en' || q === 'zh') return q;
  try { return localStorage.getItem('riskmap.lang') === 'en' ? 'en' : 'zh'; } catch { return 'zh'; }
}

/** Replaces the page with the dossier of enterprise `id`. */
export async function renderDossierPage(id) {
  const page = { id, lang: initialLang(), data: undefined, error: null };
  document.body.className = 'dossier-mode';
  document.body.innerHTML = '<div id="dossier" aria-busy="true"></div>';
  const render = () => {
    const t = (k) => STRINGS[page.lang][k] ?? STRINGS.zh[k] ?? k;
    document.documentElement.lang = page.lang === 'en' ? 'en' : 'zh-CN';
    const el = document.getElementById('dossier');
    el.innerHTML = dossierHtml(page, t);
    el.setAttribute('aria-busy', page.data === undefined && !page.error ? 'true' : 'false');
    if (page.data) {
      el.dataset.id = page.data.id;
      el.dataset.level = page.data.risk?.risk_level ?? '';
      document.title = `${t('dossierTitle')} · ${page.data.enterprise?.name ?? id}`;
    }
    el.querySelector('#dossier-print')?.addEventListener('click', () => window.print());
    el.querySelectorAll('#dossier-lang button').forEach((b) => b.addEventListener('click', () => {
      page.lang = b.dataset.lang;
      try { localStorage.setItem('riskmap.lang', page.lang); } catch { /* private mode */ }
      render();
    }));
  };
  render();
  try {
    // The map's tab opens this one without `noopener`, so its sessionStorage (the token) comes along.
    let token = null;
    try { token = sessionStorage.getItem('riskmap.token'); } catch { /* private mode */ }
    const headers = { Accept: 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    const res = await fetch(`/api/enterprises/${encodeURIComponent(id)}/dossier`, { headers });
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      page.error = `HTTP ${res.status}: ${body.description ?? ''}`;
    } else {
      page.data = await res.json();
      page.generated = res.headers.get('Date') ? new Date(res.headers.get('Date')) : new Date();
    }
  } catch (err) {
    page.error = String(err);
  }
  render();
  window.__dossier = page;
}

function levelBox(level, t) {
  if (!level) return `<span class="level-box none">—</span>`;
  return `<span class="level-box ${esc(level)}" data-level="${esc(level)}" style="background:${COLOURS[level] ?? '#9E9E9E'};color:${TEXT_ON[level] ?? '#fff'}">${esc(t(level))}</span>`;
}

function kvTable(rows, id) {
  const shown = rows.filter(([, v]) => v !== null && v !== undefined && v !== '');
  return `<table class="kv"${id ? ` id="${id}"` : ''}><tbody>${shown.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(typeof v === 'string' ? v : fmt(v))}</td></tr>`).join('')}</tbody></table>`;
}

function dossierHtml(page, t) {
  const tools = `<nav id="dossier-tools" class="no-print">
      <a href="/" id="dossier-back">← ${esc(t('backToMap'))}</a>
      <button type="button" id="dossier-print">${esc(t('print'))}</button>
      <span id="dossier-lang"><button type="button" data-lang="zh"${page.lang === 'zh' ? ' class="active"' : ''}>中文</button><button type="button" data-lang="en"${page.lang === 'en' ? ' class="active"' : ''}>EN</button></span>
    </nav>`;
  if (page.error) return `${tools}<h1>${esc(t('dossierTitle'))}</h1><p class="error-box" id="dossier-error">${esc(page.error)}</p>`;
  const d = page.data;
  if (!d) return `${tools}<h1>${esc(t('dossierTitle'))}</h1><p class="hint">${esc(t('loading'))}</p>`;
  const e = d.enterprise ?? {};
  const lang = page.lang;
  const out = [tools];
  out.push(`<header class="dossier-head"><h1>${esc(t('dossierTitle'))}</h1><div class="dossier-name">${esc(e.name ?? d.id)}</div>
    <p class="dossier-meta">${esc(t('creditCode'))}: ${esc(e.credit_code ?? '—')} · ${esc(t('id'))}: <code>${esc(d.id)}</code> · ${esc(t('dataDate'))}: ${esc(d.today)} · ${esc(t('generatedAt'))}: ${esc(fmtTime(page.generated?.toISOString()))} · ${esc(t('worldVersion'))} ${esc(d.world_version)}</p></header>`);

  // 1. Registration data.
  out.push(`<section id="dossier-enterprise"><h2>${esc(t('dsec_enterprise'))}</h2>${kvTable([
    [t('name'), e.name], [t('creditCode'), e.credit_code], [t('industry'), e.industry], [t('districtCode'), e.district_code],
    [t('parkId'), e.park_id], [t('employees'), e.employees], [t('standardization'), e.standardization_level],
    [t('installation'), e.installation ? t('install_' + e.installation) : null],
    ...Object.entries(e).filter(([k, v]) => !['name', 'credit_code', 'industry', 'district_code', 'park_id', 'employees', 'standardization_level', 'installation', 'units', 'accidents', 'major_hazard_registration', 'inspection_findings', 'risk_level'].includes(k) && (typeof v !== 'object' || v === null)).map(([k, v]) => [k, v]),
  ], 'dossier-enterprise-table')}</section>`);

  // 2. Level and explanation.
  const r = d.risk;
  out.push(`<section id="dossier-risk"><h2>${esc(t('dsec_risk'))}</h2>`);
  if (!r) out.push(`<p class="hint">${esc(t('noExplanation'))}</p>`);
  else {
    out.push(`<p class="dossier-level">${esc(t('level'))}: ${levelBox(r.risk_level, t)} · ${esc(t('score'))}: ${esc(fmt(r.score))}${r.model ? ` · ${esc(t('model'))}: ${esc(r.model.id)} v${esc(r.model.version)}` : ''}</p>`);
    if (r.factors?.length) {
      out.push(`<table class="grid" id="dossier-factors"><thead><tr><th>${esc(t('factor'))}</th><th>${esc(t('value'))}</th><th>${esc(t('points'))}</th><th>${esc(t('clause'))}</th></tr></thead><tbody>${
        r.factors.map((f) => `<tr><td>${esc(f.name)}</td><td>${esc(fmt(f.value))}</td><td class="num">${esc(f.points === null || f.points === undefined ? '—' : (f.points > 0 ? '+' : '') + fmt(f.points))}</td><td>${esc(f.clause)}</td></tr>`).join('')}</tbody></table>`);
    }
    if (r.incomplete?.length) out.push(`<p><strong>${esc(t('incomplete'))}</strong>: ${r.incomplete.map((i) => esc(fmt(i))).join('；')}</p>`);
    if (r.unconfirmed?.length) out.push(`<p class="hint">${esc(t('unconfirmedMark'))}: ${r.unconfirmed.map((i) => esc(fmt(i))).join('；')}</p>`);
  }
  // Inspection findings (检查发现) that answer the diagnosis items.
  const findings = e.inspection_findings ?? [];
  if (findings.length) {
    out.push(`<h3>${esc(t('findingsTitle'))}</h3><table class="grid" id="dossier-findings"><thead><tr><th>${esc(t('findingId'))}</th><th>${esc(t('date'))}</th><th>${esc(t('findingItem'))}</th><th>${esc(t('findingResult'))}</th><th>${esc(t('deduction'))}</th><th>${esc(t('clause'))}</th><th>${esc(t('inspector'))}</th><th>${esc(t('findingNote'))}</th><th>${esc(t('linkedDanger'))}</th></tr></thead><tbody>${
      findings.map((f) => `<tr data-finding="${esc(f.id)}" data-result="${esc(f.result)}"><td>${esc(f.id)}</td><td>${esc(f.date)}</td><td>${esc(t('ditem_' + f.item))}</td><td>${esc(t('result_' + f.result))}</td><td class="num">${esc(f.deduction ? '-' + fmt(f.deduction) : '—')}</td><td>${esc(f.clause ?? '—')}</td><td>${esc(f.inspector ?? '—')}</td><td>${esc(f.note ?? '—')}</td><td>${esc(f.danger_id ?? '—')}</td></tr>`).join('')}</tbody></table>`);
  }
  out.push('</section>');

  // 3. Units and GB 18218 grades.
  const grades = new Map((r?.major_hazards ?? []).map((h) => [h.unit, h]));
  out.push(`<section id="dossier-units"><h2>${esc(t('dsec_units'))}</h2>`);
  if (!(e.units ?? []).length) out.push(`<p class="hint">${esc(t('none'))}</p>`);
  else {
    out.push(`<table class="grid" id="dossier-units-table"><thead><tr><th>${esc(t('unit'))}</th><th>${esc(t('unitKind'))}</th><th>${esc(t('substances'))}</th><th>S</th><th>R</th><th>${esc(t('grade'))}</th></tr></thead><tbody>${
      e.units.map((u) => {
        const g = grades.get(u.id);
        const subs = (u.substances ?? []).map((x) => `${x.name ?? ''}${x.cas ? ` (${x.cas})` : ''} ${fmt(x.quantity_t)} t`).join('；');
        return `<tr data-unit="${esc(u.id)}"><td>${esc(u.id)}${u.name ? ` ${esc(u.name)}` : ''}</td><td>${esc(t(u.kind === 'production' ? 'production' : 'storage'))}</td><td>${esc(subs || '—')}</td><td class="num">${esc(g ? fmt(g.s) : '—')}</td><td class="num">${esc(g ? fmt(g.r) : '—')}</td><td class="num">${esc(g?.grade ? fill(t('gradeN'), { n: g.grade }) : '—')}</td></tr>`;
      }).join('')}</tbody></table>`);
  }
  out.push('</section>');

  // 4. 重大危险源 registration.
  const reg = d.major_hazard_registration ?? {};
  out.push(`<section id="dossier-registration"><h2>${esc(t('dsec_registration'))}</h2>`);
  if (!reg.recorded) out.push(`<p class="hint">${esc(t('noRegistration'))}</p>`);
  else {
    out.push(kvTable([
      [t('regRegistered'), reg.registered], [t('regFiled'), reg.filed], [t('regLastAssessment'), reg.last_assessment],
      [t('regNextDue'), reg.next_assessment_due ? `${reg.next_assessment_due}${reg.assessment_overdue ? ` (${t('overdue')})` : ''}` : null],
      [t('regPrincipal'), reg.guarantors?.principal], [t('regTechnical'), reg.guarantors?.technical], [t('regOperational'), reg.guarantors?.operational],
      [t('regRegulator'), reg.regulator],
    ], 'dossier-registration-table'));
    if (reg.rule) out.push(`<p class="hint">${esc(reg.rule)}</p>`);
  }
  out.push('</section>');

  // 5. External safety distances.
  out.push(`<section id="dossier-safety"><h2>${esc(t('dsec_safety'))}</h2>${d.external_safety ? reportHtml(d.external_safety, t, lang) : `<p class="hint">${esc(t('noSiteReport'))}</p>`}</section>`);

  // 6. Hidden dangers with their histories.
  const c = d.hidden_danger_counts ?? {};
  out.push(`<section id="dossier-dangers"><h2>${esc(t('dsec_dangers'))}</h2>`);
  out.push(`<p id="dossier-danger-counts">${esc(fill(t('dangerCounts'), { total: c.total ?? 0, open: c.open ?? 0, major: c.open_major ?? 0, overdue: c.overdue ?? 0 }))}</p>`);
  if (!(d.hidden_dangers ?? []).length) out.push(`<p class="hint">${esc(t('noDangers'))}</p>`);
  for (const x of d.hidden_dangers ?? []) {
    const h = x.danger ?? {};
    const item = x.rule_item;
    out.push(`<article class="dossier-danger" data-danger="${esc(x.id)}" data-status="${esc(x.status)}" data-level="${esc(x.level)}">
      <h3><span class="danger-level ${esc(x.level)}">${esc(t('dlevel_' + x.level))}</span> ${esc(h.description ?? x.id)} <small><code>${esc(x.id)}</code></small></h3>
      ${kvTable([
        [t('status'), `${lang === 'en' ? x.status_en ?? x.status : x.status_zh ?? x.status}${x.overdue ? ` · ${t('overdue')}` : ''}`],
        [t('ruleItem'), item ? `${item.id} ${item.zh ?? ''}${item.clause ? ` (${item.clause})` : ''}` : h.rule_item],
        [t('dangerSource'), h.source ? t('source_' + h.source) : null],
        [t('foundDate'), h.found_date], [t('deadline'), h.deadline], [t('responsiblePerson'), h.responsible_person],
        [t('measures'), h.measures], [t('funds'), h.funds_cny], [t('listingLevel'), h.listing_level ? t('listing_' + h.listing_level) : null],
      ])}
      <table class="grid history"><thead><tr><th>${esc(t('time'))}</th><th>${esc(t('action'))}</th><th>${esc(t('status'))}</th><th>${esc(t('actor'))}</th><th>${esc(t('note'))}</th><th>${esc(t('evidence'))}</th></tr></thead><tbody>${
        (h.history ?? []).map((ev) => `<tr data-action="${esc(ev.action)}"><td>${esc(fmtTime(ev.at))}</td><td>${esc(t('action_' + ev.action) === 'action_' + ev.action ? ev.action : t('action_' + ev.action))}</td><td>${esc(t('status_' + ev.to) === 'status_' + ev.to ? ev.to : t('status_' + ev.to))}${ev.listing_level ? ` (${esc(t('listing_' + ev.listing_level))})` : ''}</td><td>${esc(ev.actor)}</td><td>${esc(ev.note ?? '')}</td><td>${esc(ev.evidence ?? '')}</td></tr>`).join('')
      }</tbody></table>
    </article>`);
  }
  out.push('</section>');

  // 7. Accidents.
  out.push(`<section id="dossier-accidents"><h2>${esc(t('dsec_accidents'))}</h2>`);
  if (!(d.accidents ?? []).length) out.push(`<p class="hint">${esc(t('none'))}</p>`);
  else {
    out.push(`<table class="grid"><thead><tr><th>${esc(t('date'))}</th><th>${esc(t('severity'))}</th><th>${esc(t('deaths'))}</th></tr></thead><tbody>${
      d.accidents.map((a) => `<tr><td>${esc(a.date)}</td><td>${esc(t('severity_' + a.severity))}</td><td class="num">${esc(fmt(a.deaths))}</td></tr>`).join('')}</tbody></table>`);
  }
  out.push('</section>');
  out.push(`<footer class="dossier-foot">${esc(t('dossierFooter'))}</footer>`);
  return out.join('');
}
