/** Worker-thread side of createCheckerClient: type checks off the event loop that serves sign-ins. */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createInThreadChecker } from './transform-checker.js';

if (!isMainThread && parentPort && (workerData as { heraldTransformChecker?: boolean } | undefined)?.heraldTransformChecker) {
  const port = parentPort;
  const checker = createInThreadChecker((workerData as { sdkPath: string }).sdkPath);
  port.on('message', ({ id, files }: { id: number; files: string[] }) => {
    try {
      port.postMessage({ id, result: checker.checkSync(files) });
    } catch (error) {
      port.postMessage({ id, error: String((error as Error)?.stack ?? error) });
    }
  });
}
