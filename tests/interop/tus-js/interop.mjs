// valise-server against the unmodified tus-js-client and Uppy (@uppy/core +
// @uppy/tus), headless in Node, over HTTPS that trusts only the server's CA.
//
// Usage: node interop.mjs SCENARIO...   (scenarios: see `scenarios` below)
// The Python driver (../test_tus_js_interop.py) starts the server, makes the
// ticket, link and age files, and passes them in the environment:
//   VALISE_SERVER_URL        https://127.0.0.1:PORT
//   VALISE_CA                the server's CA (DATA/ca.pem)
//   VALISE_TICKET            the ticket's ref
//   VALISE_LINK_TOKEN        an upload link to that ticket (vsl_...)
//   VALISE_LINK_UPLOAD_URL   the link's upload_url
//   VALISE_TECHNICIAN_TOKEN  a technician token (vst_...), to list bundles
//   VALISE_AGE_FILE_BIG      a 50 MiB age file
//   VALISE_AGE_FILE_MEDIUM   a 12 MiB age file (not a multiple of 5 MiB)
//   VALISE_PLAINTEXT_FILE    a file that is not age-encrypted
//   VALISE_WORK_DIR          a scratch directory (URL storage files)
//   VALISE_SMALL_LINK_TOKEN, VALISE_SMALL_LINK_BUDGET
//                            deferred-length only: a link to that ticket whose
//                            byte budget is smaller than the medium file
// Prints one `ok SCENARIO: ...` line per scenario; any failure exits non-zero.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { createReadStream, readFileSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import https from 'node:https'
import { basename, join } from 'node:path'
import { PassThrough, Transform } from 'node:stream'

import Uppy from '@uppy/core'
import Tus from '@uppy/tus'
import * as tus from 'tus-js-client'

const env = (name) => {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set: run this through test_tus_js_interop.py`)
  return value
}
const serverUrl = env('VALISE_SERVER_URL')
const ca = readFileSync(env('VALISE_CA'))
const ticket = env('VALISE_TICKET')
const linkToken = env('VALISE_LINK_TOKEN')
const linkUploadUrl = env('VALISE_LINK_UPLOAD_URL')
const technicianToken = env('VALISE_TECHNICIAN_TOKEN')
const bigFile = env('VALISE_AGE_FILE_BIG')
const mediumFile = env('VALISE_AGE_FILE_MEDIUM')
const plaintextFile = env('VALISE_PLAINTEXT_FILE')
const workDir = env('VALISE_WORK_DIR')

const MiB = 1024 * 1024
const TIMEOUT_MS = 120_000 // for any one upload
// Certificate verification stays on: the only change to Node's defaults is the CA.
const httpStack = new tus.DefaultHttpStack({ ca })
const linkAuth = { Authorization: `Bearer ${linkToken}` }

async function sha256File(path) {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk)
  return hash.digest('hex')
}

// A JSON API call to the server; resolves to {status, headers, body}.
function api(method, path, token, body) {
  return new Promise((resolve, reject) => {
    const req = https.request(new URL(path, serverUrl), {
      method,
      ca,
      headers: {
        Authorization: `Bearer ${token}`,
        // Needed on tus routes (else 412), ignored elsewhere.
        'Tus-Resumable': '1.0.0',
        ...(body ? { 'Content-Type': 'application/json' } : {}),
      },
    })
    req.on('response', (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let json = null
        try {
          json = text ? JSON.parse(text) : null
        } catch {
          json = text
        }
        resolve({ status: res.statusCode, headers: res.headers, body: json })
      })
    })
    req.on('error', reject)
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: no answer in 30 s`)))
    req.end(body ? JSON.stringify(body) : undefined)
  })
}

async function ticketBundles() {
  const res = await api('GET', `/api/v1/tickets/${encodeURIComponent(ticket)}/bundles`,
    technicianToken)
  assert.equal(res.status, 200, `GET bundles: ${JSON.stringify(res.body)}`)
  assert.ok(Array.isArray(res.body), 'GET bundles: not a JSON array')
  return res.body
}

// Checks the end-to-end promise of the API: the completion answer names the
// bundle and its SHA-256, which is the file's, and the ticket lists it so.
async function assertStored(path, lastResponse, filename) {
  const expected = await sha256File(path)
  const id = lastResponse.getHeader('Valise-Bundle-Id')
  const announced = lastResponse.getHeader('Valise-Bundle-Sha256')
  assert.ok(id, `completion answer (${lastResponse.getStatus()}) has no Valise-Bundle-Id`)
  assert.equal(announced, expected, 'Valise-Bundle-Sha256 of the completion answer')
  const bundle = (await ticketBundles()).find((b) => b.id === id)
  assert.ok(bundle, `bundle ${id} is not listed for ticket ${ticket}`)
  assert.equal(bundle.sha256, expected, `sha256 of bundle ${id} in the ticket's list`)
  assert.equal(bundle.size, (await stat(path)).size, `size of bundle ${id}`)
  assert.equal(bundle.ticket, ticket)
  if (filename) assert.equal(bundle.filename, filename, `filename of bundle ${id}`)
  return { id, sha256: expected }
}

// Records every request an upload makes (method, Upload-Offset sent, status and
// Upload-Offset answered), through tus-js-client's public hooks.
function requestLog() {
  const log = []
  return {
    log,
    onBeforeRequest(req) {
      log.push({ method: req.getMethod(), url: req.getURL(),
        sentOffset: req.getHeader('Upload-Offset'),
        metadata: req.getHeader('Upload-Metadata') })
    },
    onAfterResponse(req, res) {
      const entry = log.findLast((e) => e.method === req.getMethod() && e.status === undefined)
      if (entry) {
        entry.status = res.getStatus()
        entry.offset = res.getHeader('Upload-Offset')
      }
    },
    methods: () => log.map((e) => e.method),
  }
}

// Checks the requests of a resume: HEAD (200) then PATCH (204), with no new
// upload (POST). Before that, a server still busy with the cut connection may
// answer 423 to the HEAD or 409/423 to the PATCH; tus-js-client then retries
// with HEAD again, which is correct tus, and the detail says how often.
// Returns {offset: the final HEAD's Upload-Offset, text}.
function assertResumed(entries, size) {
  const seen = entries.map((e) => `${e.method} ${e.status}`).join(', ')
  let i = 0
  let retries = 0
  for (;;) {
    const head = entries[i]
    assert.ok(head?.method === 'HEAD', `resume: expected a HEAD at request ${i}: ${seen}`)
    if (head.status === 423) {
      retries++
      i++
      continue
    }
    assert.equal(head.status, 200, `resume: HEAD answered ${head.status}: ${seen}`)
    const patch = entries[i + 1]
    assert.ok(patch?.method === 'PATCH', `resume: expected a PATCH after the HEAD: ${seen}`)
    assert.equal(patch.sentOffset, head.offset, `resume: PATCH not at the HEAD's offset: ${seen}`)
    if (patch.status === 409 || patch.status === 423) {
      retries++
      i += 2
      continue
    }
    assert.equal(patch.status, 204, `resume: PATCH answered ${patch.status}: ${seen}`)
    assert.equal(i + 2, entries.length, `resume: requests after the final PATCH: ${seen}`)
    const offset = Number(head.offset)
    assert.ok(offset > 0 && offset < size,
      `HEAD after the cut reported Upload-Offset ${head.offset} (of ${size}): the bytes ` +
      'received before the cut should be kept')
    const text = retries ? `${seen} (${retries} retried after 409/423)` : 'HEAD, PATCH'
    return { offset, text }
  }
}

// A slow network for the first part of an upload: PATCH bodies pass at most
// `bytesPerSecond`, so that progress events arrive often enough to abort midway
// on a fast loopback. The bytes are not changed; tus-js-client is not patched,
// only given this stack through its public `httpStack` option.
class SlowHttpStack {
  constructor(inner, bytesPerSecond) {
    this.inner = inner
    this.bytesPerSecond = bytesPerSecond
  }

  getName() {
    return 'SlowHttpStack'
  }

  createRequest(method, url) {
    const req = this.inner.createRequest(method, url)
    const send = req.send.bind(req)
    const rate = this.bytesPerSecond
    req.send = (body) => {
      if (!body || typeof body.pipe !== 'function') return send(body)
      const start = Date.now()
      let passed = 0
      const slow = new Transform({
        transform(chunk, _encoding, callback) {
          passed += chunk.length
          const due = start + (passed / rate) * 1000
          setTimeout(() => callback(null, chunk), Math.max(0, due - Date.now()))
        },
      })
      slow.size = body.size // tus-js-client's stack sets Content-Length from it
      body.on('error', (err) => slow.destroy(err))
      return send(body.pipe(slow))
    }
    return req
  }
}

// Runs one tus.Upload to its end; resolves to {upload, lastResponse} or rejects
// with tus-js-client's error. `abortAt`: abort once progress passes this fraction,
// resolving to {upload, aborted: true}.
function runUpload(file, options, abortAt, input) {
  return new Promise((resolve, reject) => {
    let upload
    const timer = setTimeout(() => {
      upload.abort()
      reject(new Error(`upload of ${file} not finished after ${TIMEOUT_MS / 1000} s`))
    }, TIMEOUT_MS)
    upload = new tus.Upload(input ?? createReadStream(file), {
      httpStack,
      retryDelays: [0, 500, 1000],
      ...options,
      onProgress(sent, total) {
        if (abortAt !== undefined && sent / total >= abortAt && sent < total) {
          clearTimeout(timer)
          upload.abort().then(() => resolve({ upload, aborted: true, sent, total }), reject)
        }
      },
      onSuccess({ lastResponse }) {
        clearTimeout(timer)
        resolve({ upload, lastResponse })
      },
      onError(err) {
        clearTimeout(timer)
        reject(err)
      },
    })
    upload.start()
  })
}

const statusOf = (err) => err?.originalResponse?.getStatus()

const scenarios = {
  // 50 MiB with a link token: abort past 40 %, then a new Upload resumes from
  // the URL in tus-js-client's URL storage (findPreviousUploads), HEAD then PATCH.
  async 'abort-resume'() {
    const urlStorage = new tus.FileUrlStorage(join(workDir, 'abort-resume.json'))
    const metadata = { filename: basename(bigFile) }
    const common = { endpoint: linkUploadUrl, headers: linkAuth, metadata, urlStorage, httpStack }
    const first = await runUpload(bigFile,
      { ...common, httpStack: new SlowHttpStack(httpStack, 64 * MiB) }, 0.4)
    assert.ok(first.aborted, 'the upload finished before it could be aborted')
    assert.ok(first.upload.url, 'no upload URL after the abort')

    const log = requestLog()
    let finish
    const finished = new Promise((resolve, reject) => {
      finish = { resolve, reject }
    })
    const resumed = new tus.Upload(createReadStream(bigFile), {
      ...common, ...log, retryDelays: [0, 500, 1000],
      onSuccess: (payload) => finish.resolve(payload),
      onError: (err) => finish.reject(err),
    })
    const previous = await resumed.findPreviousUploads()
    assert.equal(previous.length, 1, 'findPreviousUploads() after the abort')
    assert.equal(previous[0].uploadUrl, first.upload.url)
    resumed.resumeFromPreviousUpload(previous[0])
    resumed.start()
    const done = await finished
    const { offset, text } = assertResumed(log.log, (await stat(bigFile)).size)
    const { id } = await assertStored(bigFile, done.lastResponse, basename(bigFile))
    return `aborted at ${Math.round((100 * first.sent) / first.total)} % sent, ` +
      `server kept ${offset} bytes, resumed with ${text}, bundle ${id}`
  },

  // The same resume by setting `uploadUrl` directly, as an app that saved it would.
  async 'abort-resume-upload-url'() {
    const metadata = { filename: 'by-url.age' }
    const common = { endpoint: linkUploadUrl, headers: linkAuth, metadata }
    const first = await runUpload(mediumFile,
      { ...common, httpStack: new SlowHttpStack(httpStack, 16 * MiB) }, 0.4)
    assert.ok(first.aborted, 'the upload finished before it could be aborted')
    const log = requestLog()
    const done = await runUpload(mediumFile, { ...common, ...log, uploadUrl: first.upload.url })
    const { offset, text } = assertResumed(log.log, (await stat(mediumFile)).size)
    assert.equal(done.upload.url, first.upload.url)
    const { id } = await assertStored(mediumFile, done.lastResponse, 'by-url.age')
    return `resumed at ${offset} with ${text}; bundle ${id}`
  },

  // Uppy's defaults, with the real @uppy/core and @uppy/tus: metadata keys
  // name, type, filetype, filename, relativePath; removeFingerprintOnSuccess;
  // Uppy's pause (aborts the tus.Upload) and resume (HEAD then PATCH).
  async 'uppy-pause-resume'() {
    const storagePath = join(workDir, 'uppy.json')
    const urlStorage = new tus.FileUrlStorage(storagePath)
    const log = requestLog()
    const uppy = new Uppy({ autoProceed: false })
    uppy.use(Tus, {
      endpoint: linkUploadUrl,
      headers: linkAuth,
      removeFingerprintOnSuccess: true,
      urlStorage,
      httpStack: new SlowHttpStack(httpStack, 16 * MiB),
      onBeforeRequest: log.onBeforeRequest,
      onAfterResponse: log.onAfterResponse,
    })
    const { size } = await stat(mediumFile)
    // What the Dashboard or a file input adds: relativePath is null for a file
    // picked on its own (Uppy sends it as the string "null").
    const data = Object.assign(createReadStream(mediumFile), { size })
    const fileId = uppy.addFile({ name: 'support-bundle.age', type: 'application/octet-stream',
      data, meta: { relativePath: null } })
    let paused = false
    let resumeLogStart
    uppy.on('upload-progress', (file, progress) => {
      if (!paused && progress.bytesUploaded / progress.bytesTotal >= 0.4) {
        paused = true
        uppy.pauseResume(fileId) // pause: aborts the request midway
        setTimeout(() => {
          resumeLogStart = log.log.length
          uppy.pauseResume(fileId) // resume: the same tus.Upload starts again
        }, 300)
      }
    })
    const result = await Promise.race([
      uppy.upload(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('Uppy upload timed out')),
        TIMEOUT_MS)),
    ])
    assert.equal(result.failed?.length ?? 0, 0,
      `Uppy failed: ${result.failed?.map((f) => f.error).join('; ')}`)
    assert.equal(result.successful?.length, 1, 'Uppy: no successful upload')
    assert.ok(paused, 'the upload finished before Uppy could pause it')

    const post = log.log.find((e) => e.method === 'POST')
    const keys = decodeMetadata(post.metadata)
    assert.deepEqual(Object.keys(keys).sort(),
      ['filename', 'filetype', 'name', 'relativePath', 'type'], `Upload-Metadata ${post.metadata}`)
    assert.equal(keys.relativePath, 'null')
    const resume = assertResumed(log.log.slice(resumeLogStart), size)

    const file = result.successful[0]
    const lastResponse = {
      getStatus: () => file.response.body.xhr.statusCode,
      getHeader: (h) => file.response.body.xhr.headers[h.toLowerCase()],
    }
    const { id } = await assertStored(mediumFile, lastResponse, 'support-bundle.age')
    assert.deepEqual(await urlStorage.findAllUploads(), [],
      'removeFingerprintOnSuccess left the upload in the URL storage')
    uppy.destroy()
    return `metadata keys ${Object.keys(keys).sort().join(', ')}; paused at ` +
      `${resume.offset} bytes, resumed with ${resume.text}; bundle ${id}`
  },

  // Uppy after a reload: a new Uppy instance, the same file added again, finds
  // the upload in the URL storage and resumes it (findPreviousUploads in @uppy/tus).
  async 'uppy-reload-resume'() {
    const urlStorage = new tus.FileUrlStorage(join(workDir, 'uppy-reload.json'))
    const { size } = await stat(mediumFile)
    const addTo = (uppy) => uppy.addFile({ name: 'reloaded.age', type: 'application/octet-stream',
      data: Object.assign(createReadStream(mediumFile), { size }), meta: { relativePath: null } })
    const first = new Uppy()
    first.use(Tus, { endpoint: linkUploadUrl, headers: linkAuth, urlStorage,
      removeFingerprintOnSuccess: true, httpStack: new SlowHttpStack(httpStack, 16 * MiB) })
    const firstId = addTo(first)
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('first Uppy never reached 40 %')), TIMEOUT_MS)
      first.on('upload-progress', (_file, p) => {
        if (p.bytesUploaded / p.bytesTotal >= 0.4) {
          clearTimeout(timer)
          first.pauseResume(firstId)
          resolve()
        }
      })
      first.on('upload-error', (_file, err) => reject(err))
      first.upload().catch(reject)
    })
    // A reload ends the page without cleanup; first.destroy() would cancel the
    // upload and terminate it on the server (DELETE).
    assert.equal((await urlStorage.findAllUploads()).length, 1, 'URL storage after the pause')

    const log = requestLog()
    const second = new Uppy()
    second.use(Tus, { endpoint: linkUploadUrl, headers: linkAuth, urlStorage,
      removeFingerprintOnSuccess: true, httpStack, onBeforeRequest: log.onBeforeRequest,
      onAfterResponse: log.onAfterResponse })
    addTo(second)
    const result = await second.upload()
    assert.equal(result.successful?.length, 1,
      `second Uppy: ${result.failed?.map((f) => f.error).join('; ')}`)
    const resume = assertResumed(log.log, size)
    const xhr = result.successful[0].response.body.xhr
    const { id } = await assertStored(mediumFile,
      { getStatus: () => xhr.statusCode, getHeader: (h) => xhr.headers[h.toLowerCase()] },
      'reloaded.age')
    assert.deepEqual(await urlStorage.findAllUploads(), [], 'URL storage after success')
    second.destroy()
    return `resumed at ${resume.offset} bytes with ${resume.text}; bundle ${id}`
  },

  // Uppy's cancel midway terminates the upload (tus termination, DELETE): the
  // server forgets it and stores nothing.
  async 'uppy-cancel'() {
    const before = await ticketBundles()
    const log = requestLog()
    const uppy = new Uppy()
    uppy.use(Tus, { endpoint: linkUploadUrl, headers: linkAuth,
      httpStack: new SlowHttpStack(httpStack, 16 * MiB),
      onBeforeRequest: log.onBeforeRequest, onAfterResponse: log.onAfterResponse })
    const { size } = await stat(mediumFile)
    uppy.addFile({ name: 'cancelled.age', type: 'application/octet-stream',
      data: Object.assign(createReadStream(mediumFile), { size }), meta: { relativePath: null } })
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('Uppy never reached 40 %')), TIMEOUT_MS)
      let cancelled = false
      uppy.on('upload-progress', (_file, p) => {
        if (!cancelled && p.bytesUploaded / p.bytesTotal >= 0.4) {
          cancelled = true
          clearTimeout(timer)
          uppy.cancelAll()
          resolve()
        }
      })
      uppy.upload().catch(reject)
    })
    const deadline = Date.now() + 30_000
    let del
    // A DELETE answered 423 (the cut PATCH still holds the upload) is retried.
    while (!(del = log.log.find((e) => e.method === 'DELETE' && e.status !== undefined &&
      e.status !== 423))) {
      assert.ok(Date.now() < deadline, `no answer to Uppy's DELETE: ${log.methods()}`)
      await new Promise((r) => setTimeout(r, 50))
    }
    assert.equal(del.status, 204, 'DELETE of the cancelled upload')
    const head = await api('HEAD', del.url, linkToken)
    assert.ok([404, 410].includes(head.status), `HEAD after DELETE: ${head.status}`)
    const after = await ticketBundles()
    assert.deepEqual(after.map((b) => b.id).sort(), before.map((b) => b.id).sort(),
      'bundles of the ticket changed after a cancelled upload')
    return `${log.methods().join(', ')}; DELETE ${del.status}, then HEAD ${head.status}`
  },

  // Plaintext is refused with 415 and nothing is stored, whether the bytes come
  // in a PATCH or in the creation POST.
  async plaintext() {
    const before = await ticketBundles()
    const lines = []
    for (const duringCreation of [false, true]) {
      const log = requestLog()
      let err
      try {
        await runUpload(plaintextFile, { endpoint: linkUploadUrl, headers: linkAuth, ...log,
          metadata: { filename: 'plain.txt' }, uploadDataDuringCreation: duringCreation })
      } catch (e) {
        err = e
      }
      const how = duringCreation ? 'creation-with-upload' : 'PATCH'
      assert.ok(err, `plaintext upload (${how}) succeeded`)
      assert.equal(statusOf(err), 415, `plaintext upload (${how}): ${err.message}`)
      const body = JSON.parse(err.originalResponse.getBody())
      assert.equal(body.error, 'not_age_encrypted', `error body ${err.originalResponse.getBody()}`)
      const url = err.originalRequest.getURL()
      if (!duringCreation) {
        // The upload existed (POST answered 201): it must not report any bytes now.
        const head = await api('HEAD', url, linkToken)
        assert.ok(head.status !== 200 || head.headers['upload-offset'] === '0',
          `HEAD ${url} after the refusal: ${head.status}, offset ${head.headers['upload-offset']}`)
        lines.push(`${how}: 415 ${body.error}, then HEAD ${head.status}`)
      } else {
        lines.push(`${how}: 415 ${body.error}`)
      }
    }
    const after = await ticketBundles()
    assert.deepEqual(after.map((b) => b.id).sort(), before.map((b) => b.id).sort(),
      'bundles of the ticket changed after refused uploads')
    return lines.join('; ')
  },

  // Creation-with-upload: the whole file in the POST (tus-js-client's
  // uploadDataDuringCreation), and with 5 MiB chunks (the first in the POST).
  async 'creation-with-upload'() {
    const lines = []
    for (const chunkSize of [Infinity, 5 * MiB]) {
      const log = requestLog()
      const done = await runUpload(mediumFile, { endpoint: linkUploadUrl, headers: linkAuth, ...log,
        metadata: { filename: 'cwu.age' }, uploadDataDuringCreation: true, chunkSize })
      if (chunkSize === Infinity) {
        assert.deepEqual(log.methods(), ['POST'], 'one POST carries the whole file')
      } else {
        const { size } = await stat(mediumFile)
        const patches = Array(Math.ceil(size / chunkSize) - 1).fill('PATCH')
        assert.deepEqual(log.methods(), ['POST', ...patches], 'POST then PATCHes')
      }
      const { id } = await assertStored(mediumFile, done.lastResponse, 'cwu.age')
      lines.push(`${log.methods().join(', ')} → bundle ${id}`)
    }
    return lines.join('; ')
  },

  // Deferred length with a link, as the browser drop page uploads what it
  // compresses on the fly: a stream of unknown size in 5 MiB PATCHes, the
  // last one sending Upload-Length. Then the same to a link whose budget is
  // smaller than the file: 413 budget_exceeded, the upload keeping the
  // bytes the budget holds.
  async 'deferred-length'() {
    const log = requestLog()
    const stream = () => createReadStream(mediumFile).pipe(new PassThrough())
    const done = await runUpload(null, { endpoint: linkUploadUrl, headers: linkAuth, ...log,
      metadata: { filename: 'deferred.age' }, uploadLengthDeferred: true, chunkSize: 5 * MiB },
    undefined, stream())
    const { size } = await stat(mediumFile)
    assert.deepEqual(log.methods(), ['POST', ...Array(Math.ceil(size / (5 * MiB))).fill('PATCH')],
      'POST then PATCHes')
    const { id } = await assertStored(mediumFile, done.lastResponse, 'deferred.age')
    const info = await api('GET', '/api/v1/link', linkToken)
    assert.equal(info.status, 200, `GET /api/v1/link: ${JSON.stringify(info.body)}`)
    assert.equal(info.body.used_bytes, size, 'the link is charged the final length')

    const smallToken = env('VALISE_SMALL_LINK_TOKEN')
    const budget = Number(env('VALISE_SMALL_LINK_BUDGET'))
    let err
    try {
      await runUpload(null, { endpoint: linkUploadUrl,
        headers: { Authorization: `Bearer ${smallToken}` }, retryDelays: [],
        metadata: { filename: 'over.age' }, uploadLengthDeferred: true, chunkSize: 5 * MiB },
      undefined, stream())
    } catch (e) {
      err = e
    }
    assert.ok(err, 'an upload past the link\'s budget succeeded')
    assert.equal(statusOf(err), 413, `over budget: ${err.message}`)
    assert.equal(JSON.parse(err.originalResponse.getBody()).error, 'budget_exceeded')
    const head = await api('HEAD', err.originalRequest.getURL(), smallToken)
    assert.equal(head.headers['upload-offset'], String(budget), 'bytes kept at the budget')
    const small = await api('GET', '/api/v1/link', smallToken)
    assert.equal(small.body.used_bytes, budget, 'the small link is spent exactly')
    return `${log.methods().length} requests → bundle ${id}, charged ${size}; ` +
      `over budget: 413 at byte ${budget}`
  },

  // Chunked: 5 MiB PATCHes of the 50 MiB file, with the technician token (the
  // ticket named in the metadata), each chunk with Upload-Offset checked.
  async chunked() {
    const log = requestLog()
    const done = await runUpload(bigFile, {
      endpoint: new URL('/api/v1/uploads', serverUrl).href,
      headers: { Authorization: `Bearer ${technicianToken}` },
      metadata: { filename: 'chunked.age', ticket },
      chunkSize: 5 * MiB,
      ...log,
    })
    const { size } = await stat(bigFile)
    const patches = log.log.filter((e) => e.method === 'PATCH')
    assert.deepEqual(log.methods(), ['POST', ...patches.map(() => 'PATCH')])
    assert.equal(patches.length, Math.ceil(size / (5 * MiB)), `PATCH requests: ${log.methods()}`)
    patches.forEach((p, i) => {
      assert.equal(Number(p.sentOffset), i * 5 * MiB, `offset sent by PATCH ${i}`)
      assert.equal(Number(p.offset), Math.min((i + 1) * 5 * MiB, size), `offset after PATCH ${i}`)
    })
    const { id } = await assertStored(bigFile, done.lastResponse, 'chunked.age')
    return `POST + ${patches.length} PATCH of at most 5 MiB (${size} bytes), bundle ${id}`
  },

  // overridePatchMethod: PATCH sent as POST + X-HTTP-Method-Override, in chunks.
  async 'override-patch'() {
    const log = requestLog()
    const done = await runUpload(mediumFile, { endpoint: linkUploadUrl, headers: linkAuth, ...log,
      metadata: { filename: 'override.age' }, overridePatchMethod: true, chunkSize: 5 * MiB })
    const { size } = await stat(mediumFile)
    assert.deepEqual(log.methods(), Array(1 + Math.ceil(size / (5 * MiB))).fill('POST'))
    const { id } = await assertStored(mediumFile, done.lastResponse, 'override.age')
    return `${log.methods().length} POST (all but the first with X-HTTP-Method-Override: PATCH), bundle ${id}`
  },
}

function decodeMetadata(header) {
  const out = {}
  for (const pair of (header ?? '').split(',')) {
    const [key, value] = pair.trim().split(' ')
    if (key) out[key] = value === undefined ? '' : Buffer.from(value, 'base64').toString('utf8')
  }
  return out
}

const wanted = process.argv.slice(2)
if (wanted.length === 0 || wanted.some((name) => !scenarios[name])) {
  console.error(`usage: node interop.mjs SCENARIO...; scenarios: ${Object.keys(scenarios).join(' ')}`)
  process.exit(2)
}
let failed = 0
for (const name of wanted) {
  const started = Date.now()
  try {
    const detail = await scenarios[name]()
    console.log(`ok ${name} (${((Date.now() - started) / 1000).toFixed(1)} s): ${detail}`)
  } catch (err) {
    failed++
    console.log(`not ok ${name}: ${err.stack ?? err}`)
    if (err.originalResponse) {
      console.log(`  last response: ${err.originalResponse.getStatus()} ` +
        `${err.originalResponse.getBody()}`)
    }
  }
}
process.exit(failed ? 1 : 0)
