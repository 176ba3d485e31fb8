// The resident portal: sign in with one's own key (WebCrypto ECDSA P-256), list one's access
// records, and verify every record in the browser: the tree head's signature with the
// broker's key, and the record's RFC 9162 inclusion proof against that tree head.
'use strict';

const TEXT = {
  ja: {
    title: '自分の情報の利用履歴', residentId: '住民コード', keyFile: '利用者証明用の鍵ファイル',
    signIn: 'ログイン', agency: '機関', all: 'すべて', from: '期間（開始）', to: '期間（終了）',
    apply: '絞り込む', when: '日時', who: '利用した機関', what: '利用された情報', why: '目的',
    user: '担当者', outcome: '結果', verified: '検証', more: 'さらに表示',
    intro: 'どの機関が、いつ、何のために、あなたの情報を利用したかを確認できます。各記録はブラウザ内で暗号学的に検証されます。',
    ok: '検証済み', bad: '検証失敗', success: '提供', denied: '提供なし',
    none: '利用の記録はありません。', signingIn: 'ログインしています…', failed: 'ログインできませんでした: ',
    head: (n, t) => `署名付きツリーヘッド: ${n} 件 (${t})`, pending: (n) => `ほか ${n} 件は次のツリーヘッドで検証可能になります。`,
  },
  en: {
    title: 'Who used my data', residentId: 'Resident code', keyFile: 'Your sign-in key file',
    signIn: 'Sign in', agency: 'Agency', all: 'All', from: 'From', to: 'To', apply: 'Filter',
    when: 'Date and time', who: 'Agency', what: 'Data used', why: 'Purpose', user: 'Official',
    outcome: 'Outcome', verified: 'Verified', more: 'Show more',
    intro: 'See which agency used your data, when, and why. Every record is verified cryptographically in your browser.',
    ok: 'Verified', bad: 'Verification failed', success: 'provided', denied: 'not provided',
    none: 'No use of your data is recorded.', signingIn: 'Signing in…', failed: 'Sign-in failed: ',
    head: (n, t) => `Signed tree head: ${n} entries (${t})`, pending: (n) => `${n} more will be verifiable with the next tree head.`,
  },
};

// Data named in human words, where the schema's methods are known.
const DATA_NAMES = {
  '/renkei.municipal.v1.ResidentRegistry/GetResident': {
    ja: '住民基本台帳の記載事項（氏名・生年月日・住所・世帯）',
    en: 'Resident registry entry (name, birth date, address, household)',
  },
  '/renkei.municipal.v1.ChildAllowance/CheckEligibility': {
    ja: '児童手当の受給資格', en: 'Child allowance eligibility',
  },
};

let lang = 'ja';
let session = null;
let nextPageToken = '';
let treeHeadKey = null;
let memberNames = {};

const $ = (id) => document.getElementById(id);
const t = (key) => TEXT[lang][key];

function setLanguage(next) {
  lang = next;
  document.documentElement.lang = next;
  $('lang-ja').setAttribute('aria-pressed', String(next === 'ja'));
  $('lang-en').setAttribute('aria-pressed', String(next === 'en'));
  for (const el of document.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t);
  document.title = (next === 'ja' ? '連携 — ' : 'Renkei — ') + t('title');
  for (const row of document.querySelectorAll('#records tbody tr')) renderRow(row, row.record);
}

const b64 = {
  decode: (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0)),
  encode: (bytes) => btoa(String.fromCharCode(...bytes)),
};

function pemToDer(pem) {
  const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return b64.decode(body);
}

async function post(path, body) {
  const response = await fetch(path, {
    method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(json.error || response.statusText);
  return json;
}

async function sha256(bytes) { return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)); }
function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) { out.set(p, offset); offset += p.length; }
  return out;
}
const nodeHash = (l, r) => sha256(concat(Uint8Array.of(1), l, r));
const leafHash = (entry) => sha256(concat(Uint8Array.of(0), entry));
const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

// RFC 9162 §2.1.3.2, with BigInt so that indexes past 2^32 are exact.
async function verifyInclusion(entry, index, size, proof, root) {
  let fn = BigInt(index), sn = BigInt(size) - 1n;
  if (fn > sn) return false;
  let r = await leafHash(entry);
  for (const p of proof) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      if ((fn & 1n) === 0n) while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n; sn >>= 1n;
  }
  return sn === 0n && equal(r, root);
}

function u64(value) {
  const bytes = new Uint8Array(8);
  let v = BigInt(value);
  for (let i = 7; i >= 0; i--) { bytes[i] = Number(v & 0xffn); v >>= 8n; }
  return bytes;
}

// DER ECDSA signature to the 64-byte r||s WebCrypto verifies.
function derToRaw(der) {
  let offset = 2;
  const read = () => {
    offset++;  // INTEGER tag
    const length = der[offset++];
    let value = der.slice(offset, offset + length);
    offset += length;
    while (value.length > 32 && value[0] === 0) value = value.slice(1);
    const padded = new Uint8Array(32);
    padded.set(value, 32 - value.length);
    return padded;
  };
  return concat(read(), read());
}

async function verifyTreeHead(head) {
  const input = concat(new TextEncoder().encode('renkei-tree-head-v1'), u64(head.treeSize || 0),
                       u64(head.timestampMs || 0), b64.decode(head.rootHash));
  return crypto.subtle.verify({name: 'ECDSA', hash: 'SHA-256'}, treeHeadKey,
                              derToRaw(b64.decode(head.signature)), input);
}

function renderRow(row, record) {
  const r = record.record;
  const clientMember = r.client.split('/').slice(0, 3).join('/');
  const name = memberNames[clientMember] || clientMember;
  const data = DATA_NAMES[r.method] ? DATA_NAMES[r.method][lang] : r.method;
  const when = new Date(r.time).toLocaleString(lang === 'ja' ? 'ja-JP' : 'en-GB', {timeZone: 'Asia/Tokyo'});
  const cells = [when, `${name} (${r.client})`, data, r.purpose, r.user || '—',
                 (r.outcome || 0) === 0 ? t('success') : `${t('denied')} (${r.outcome})`];
  row.replaceChildren(...cells.map((text) => { const td = document.createElement('td'); td.textContent = text; return td; }));
  const mark = document.createElement('td');
  mark.className = record.verified ? 'verified' : 'unverified';
  mark.textContent = record.verified ? `✓ ${t('ok')}` : `✗ ${t('bad')}`;
  row.append(mark);
}

async function loadPage(reset) {
  const request = {sessionToken: session, pageSize: 20, pageToken: reset ? '' : nextPageToken};
  if ($('agency').value) request.clientMember = $('agency').value;
  if ($('from').value) request.from = `${$('from').value}T00:00:00+09:00`;
  if ($('to').value) request.to = `${$('to').value}T23:59:59.999+09:00`;
  const {response, memberNames: names} = await post('/api/records', request);
  memberNames = names;
  const agency = $('agency');
  if (agency.options.length === 1) {
    for (const [id, name] of Object.entries(names)) agency.add(new Option(`${name} (${id})`, id));
  }
  const head = response.treeHead;
  const headOk = await verifyTreeHead(head);
  $('tree-head').textContent = t('head')(head.treeSize || 0, headOk ? t('ok') : t('bad')) +
      (response.pending ? ' ' + t('pending')(response.pending) : '');
  const body = document.querySelector('#records tbody');
  if (reset) body.replaceChildren();
  for (const proven of response.records || []) {
    const proof = (proven.inclusionProof || []).map(b64.decode);
    proven.verified = headOk && await verifyInclusion(b64.decode(proven.entry), proven.leafIndex || 0,
                                                      head.treeSize, proof, b64.decode(head.rootHash));
    const row = document.createElement('tr');
    row.record = proven;
    renderRow(row, proven);
    body.append(row);
  }
  nextPageToken = response.nextPageToken || '';
  $('more').hidden = !nextPageToken;
  $('message').textContent = body.children.length ? '' : t('none');
}

async function signIn(event) {
  event.preventDefault();
  const message = $('message');
  message.className = '';
  message.textContent = t('signingIn');
  try {
    const residentId = $('resident-id').value.trim();
    const pem = await $('key-file').files[0].text();
    const key = await crypto.subtle.importKey('pkcs8', pemToDer(pem), {name: 'ECDSA', namedCurve: 'P-256'},
                                              false, ['sign']);
    const {challenge} = await post('/api/challenge', {residentId});
    const signature = new Uint8Array(await crypto.subtle.sign({name: 'ECDSA', hash: 'SHA-256'}, key,
                                                              b64.decode(challenge)));
    const {sessionToken} = await post('/api/sign-in', {residentId, challenge, signature: b64.encode(signature)});
    session = sessionToken;
    const {spki} = await (await fetch('/api/tree-head-key')).json();
    treeHeadKey = await crypto.subtle.importKey('spki', b64.decode(spki), {name: 'ECDSA', namedCurve: 'P-256'},
                                                false, ['verify']);
    $('sign-in-form').hidden = true;
    $('history').hidden = false;
    await loadPage(true);
  } catch (error) {
    message.className = 'error';
    message.textContent = t('failed') + error.message;
  }
}

$('sign-in-form').addEventListener('submit', signIn);
$('filters').addEventListener('submit', (e) => { e.preventDefault(); loadPage(true); });
$('more').addEventListener('click', () => loadPage(false));
$('lang-ja').addEventListener('click', () => setLanguage('ja'));
$('lang-en').addEventListener('click', () => setLanguage('en'));
setLanguage('ja');
