namespace EdgeInference.Testing.Speech;

/// <summary>One phrase to say: the words, espeak-ng's voice and speed, and whether it is the wake word.</summary>
public sealed record SpokenClip(string Text, string Voice, int WordsPerMinute, bool WakeWord)
{
    public string Name => $"{(WakeWord ? "wake" : "other")}_{Voice.Replace('+', '_')}_{WordsPerMinute}";
}
