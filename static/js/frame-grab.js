// Grab a still from a <video>: at the stream's own resolution, not the
// size it happens to be drawn at on screen.

export function grabFrame(video, { type = "image/jpeg", quality = 0.92 } = {}) {
  return new Promise((resolve, reject) => {
    const width = video.videoWidth;
    const height = video.videoHeight;
    if (!width || !height) {
      reject(new Error("no video frame yet"));
      return;
    }
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    canvas.getContext("2d").drawImage(video, 0, 0, width, height);
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("encoding failed"))), type, quality);
  });
}
