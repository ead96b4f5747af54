// A short tone that fades out: the guest's speaker test, the control room's alert.

/**
 * @param {AudioContext} audio @param {number} frequency Hz @param {number} seconds
 * @param {number} level peak gain, 0 to 1
 */
export function playTone(audio, frequency, seconds, level) {
  const tone = audio.createOscillator();
  const gain = audio.createGain();
  tone.frequency.value = frequency;
  gain.gain.setValueAtTime(level, audio.currentTime);
  gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + seconds);
  tone.connect(gain).connect(audio.destination);
  tone.start();
  tone.stop(audio.currentTime + seconds);
}
