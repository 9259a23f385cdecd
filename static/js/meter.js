// A microphone level meter: the RMS of the waveform through a Web Audio AnalyserNode, about 20
// times a second. What it measures is what the track sends: a muted (disabled) track reads 0.

const SPEECH_GAIN = 4; // speech RMS is ~0.05–0.25: scaled so that normal speech fills the meter

/**
 * Starts measuring `stream`'s audio. `onLevel(level)` gets 0–1. Returns {context, stop}, or
 * null without audio or Web Audio. Browsers start an AudioContext suspended until the user
 * interacts with the page: call `context.resume()` from a gesture.
 */
export function startMeter(stream, onLevel) {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!stream || !stream.getAudioTracks().length || !Context) return null;
  const context = new Context();
  const analyser = context.createAnalyser();
  analyser.fftSize = 1024;
  const source = context.createMediaStreamSource(stream);
  source.connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  const timer = setInterval(() => {
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const s of samples) sum += s * s;
    onLevel(Math.min(1, Math.sqrt(sum / samples.length) * SPEECH_GAIN));
  }, 50);
  return {
    context,
    stop() {
      clearInterval(timer);
      source.disconnect();
      context.close().catch(() => {});
    },
  };
}
