using System.Diagnostics;

namespace EdgeInference.Testing.Speech;

/// <summary>
/// Real speech, made by Debian's <c>espeak-ng</c>: a phrase in a given voice and speed, as 16 kHz mono samples at
/// 16-bit scale, which is how openWakeWord feeds its melspectrogram.
/// </summary>
public static class SpeechCorpus
{
    public const int SampleRate = 16_000;

    /// <summary>Says <paramref name="clip"/> into a WAV file in <paramref name="folder"/> and returns it at 16 kHz.</summary>
    public static float[] Speak(SpokenClip clip, string folder)
    {
        ArgumentNullException.ThrowIfNull(clip);
        var wav = Path.Combine(folder, $"{clip.Name}.wav");
        var start = new ProcessStartInfo("espeak-ng") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[] { "-v", clip.Voice, "-s", clip.WordsPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture), "-w", wav, clip.Text })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("espeak-ng did not start");
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0 || !File.Exists(wav))
        {
            throw new InvalidOperationException($"espeak-ng failed on {clip.Name} ({process.ExitCode}): {error}");
        }

        return ReadWav(wav);
    }

    /// <summary>A 16-bit mono PCM WAV file's samples, resampled to 16 kHz.</summary>
    public static float[] ReadWav(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 44 || BitConverter.ToInt16(bytes, 22) != 1 || BitConverter.ToInt16(bytes, 34) != 16)
        {
            throw new InvalidDataException($"{path} is not 16-bit mono PCM WAV");
        }

        var rate = BitConverter.ToInt32(bytes, 24);
        for (var position = 12; position + 8 <= bytes.Length;)
        {
            var id = System.Text.Encoding.ASCII.GetString(bytes, position, 4);
            var length = BitConverter.ToInt32(bytes, position + 4);
            if (id == "data")
            {
                var count = Math.Min(length, bytes.Length - position - 8) / 2;
                var samples = new float[count];
                for (var i = 0; i < count; i++)
                {
                    samples[i] = BitConverter.ToInt16(bytes, position + 8 + (2 * i));
                }

                return Resample(samples, rate, SampleRate);
            }

            position += 8 + length;
        }

        throw new InvalidDataException($"{path} has no data chunk");
    }

    /// <summary>Band-limited resampling: a Hann-windowed sinc, 32 taps, cut off at the lower Nyquist frequency.</summary>
    public static float[] Resample(float[] samples, int from, int to)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (from == to)
        {
            return samples;
        }

        const int Half = 16;
        var result = new float[(int)((long)samples.Length * to / from)];
        var ratio = (double)from / to;
        var cutoff = Math.Min(1.0, (double)to / from);
        for (var i = 0; i < result.Length; i++)
        {
            var t = i * ratio;
            var centre = (int)Math.Floor(t);
            double sum = 0;
            for (var k = Math.Max(0, centre - Half + 1); k <= Math.Min(samples.Length - 1, centre + Half); k++)
            {
                var distance = t - k;
                var angle = Math.PI * distance * cutoff;
                var sinc = distance == 0 ? 1 : Math.Sin(angle) / angle;
                var window = 0.5 * (1 + Math.Cos(Math.PI * distance / Half));
                sum += samples[k] * cutoff * sinc * window;
            }

            result[i] = (float)sum;
        }

        return result;
    }
}
