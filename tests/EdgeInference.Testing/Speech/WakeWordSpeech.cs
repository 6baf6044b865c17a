using System.Collections.Immutable;

namespace EdgeInference.Testing.Speech;

/// <summary>
/// The speech used to calibrate and to judge quantized wake-word models: "hey jarvis" and other sentences, in
/// different espeak-ng voices for calibration and for the held-out set, so that a model is never judged on the
/// voices it was calibrated with.
/// </summary>
public static class WakeWordSpeech
{
    public const string WakeWord = "hey jarvis";

    public static ImmutableArray<SpokenClip> Calibration { get; } = Clips(
        ["en-us", "en-gb", "en+m3", "en-us+f3", "en+m1", "en+f2"], [140, 170], "please set a timer for ten minutes and play some music");

    public static ImmutableArray<SpokenClip> HeldOut { get; } = Clips(
        ["en-gb-scotland", "en-029", "en+m5", "en-us+f4", "en+m7", "en-gb-x-rp"], [130, 160, 190], "what is the weather like tomorrow in the city");

    private static ImmutableArray<SpokenClip> Clips(string[] voices, int[] speeds, string other) =>
    [
        .. from voice in voices
           from speed in speeds
           from wake in new[] { true, false }
           select new SpokenClip(wake ? WakeWord : other, voice, speed, wake),
    ];
}
