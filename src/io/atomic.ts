// Writes that never leave a half-written result behind: files go to an
// fsynced temporary sibling that is renamed over the target (same directory,
// so the rename is atomic); folders are built aside and swapped into place.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, open, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Bounds a single write() call (Linux caps it near 2 GiB). */
const WRITE_CHUNK_BYTES = 64 * 1024 * 1024;

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.byteLength; ) {
    const length = Math.min(bytes.byteLength - done, WRITE_CHUNK_BYTES);
    const { bytesWritten } = await handle.write(bytes, done, length);
    done += bytesWritten;
  }
}

/**
 * Writes `chunks` to `path` via fsynced temporary file + rename. An async source is drawn one
 * chunk at a time (a checkpoint reads each tensor off the GPU as the file reaches it); if it
 * throws, the temporary file is removed and `path` is left as it was.
 */
export async function writeFileAtomically(path: string, chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
  const tmp = uniqueTempName(path);
  // 'wx': never truncate another writer's temporary, whatever the name's chances of meeting one.
  const handle = await open(tmp, 'wx');
  try {
    for await (const chunk of chunks) await writeAll(handle, chunk);
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await syncDirectory(dirname(path));
}

/**
 * `<path>.tmp-<pid>-<random>`: the pid alone is shared by overlapping writes to one path in this
 * process, and by processes in containers (every one pid 1) writing to a shared folder; two
 * writers on one temporary would interleave their bytes and one rename would find it gone.
 */
function uniqueTempName(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/** Makes a rename durable; best effort, since some platforms cannot open directories. */
export async function syncDirectory(dir: string): Promise<void> {
  syncDirectorySync(dir);
}

/**
 * Synchronous text variant for small result files (reports, results.json, a resumed metrics log):
 * written to an fsynced temporary sibling, renamed over `path`, then the directory entry synced.
 */
export function writeTextFileAtomicSync(path: string, text: string): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const temp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    const fd = openSync(temp, 'w');
    try {
      writeFileSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
  syncDirectorySync(dir);
}

function syncDirectorySync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Durability of the directory entry is an optimisation, not a correctness requirement here.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export async function pathExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Moves a finished temporary folder to `target`; an existing target is set aside first and deleted after. */
export async function swapFolderInto(tmp: string, target: string): Promise<void> {
  if (!(await pathExists(target))) {
    await rename(tmp, target);
    return;
  }
  const old = `${target}.old-${process.pid}`;
  await rm(old, { recursive: true, force: true });
  await rename(target, old);
  try {
    await rename(tmp, target);
  } catch (err) {
    await rename(old, target).catch(() => undefined);
    throw err;
  }
  await rm(old, { recursive: true, force: true });
}

/**
 * Builds the folder `target` all or nothing: `fill` writes into an empty temporary sibling, which
 * is fsynced and swapped into place (see swapFolderInto). If `fill` or the swap fails, the sibling
 * is removed and whatever stood at `target` is left as it was.
 */
export async function writeFolderAtomically(target: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = `${target}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    await fill(tmp);
    await syncDirectory(tmp);
    await swapFolderInto(tmp, target);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  await syncDirectory(dirname(target));
}
