/**
 * A request body that sends its first bytes and then holds until released: a PATCH still
 * streaming on one replica while a test sends the next request elsewhere.
 */
export function heldBody(content: Buffer, sentFirst: number): { body: ReadableStream<Uint8Array>; release: () => void } {
  let release!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(content.subarray(0, sentFirst));
      await held;
      controller.enqueue(content.subarray(sentFirst));
      controller.close();
    },
  });
  return { body, release };
}
