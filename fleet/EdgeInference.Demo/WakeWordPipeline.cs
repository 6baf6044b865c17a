using System.Buffers;
using System.Text.Json;

namespace EdgeInference.Demo;

/// <summary>
/// openWakeWord's pipeline against one agent, over the Open Inference Protocol v2 (JSON): every second of
/// synthetic 16 kHz audio goes through <c>melspectrogram</c>; each new 8 mel frames, the last 76 go through
/// <c>embedding</c>; the last 16 embeddings go through <c>hey_jarvis</c>. So telemetry and drift flow for all three.
/// </summary>
internal sealed class WakeWordPipeline
{
    private const int SampleRate = 16_000;
    private const int MelWindow = 76;
    private const int MelStep = 8;
    private const int Embeddings = 16;

    private readonly HttpClient _http;
    private readonly Random _random;
    private readonly List<float[]> _frames = [];
    private readonly List<float[]> _embeddings = [];
    private readonly System.Collections.Concurrent.ConcurrentQueue<float[]> _windows = new();
    private int _framesSinceEmbedding;
    private double _phase;

    public WakeWordPipeline(string agentUrl, int seed)
    {
        _http = new HttpClient { BaseAddress = new Uri(agentUrl), Timeout = TimeSpan.FromSeconds(30) };
        _random = new Random(seed);
    }

    public long Requests { get; private set; }

    public long Failures { get; private set; }

    public double LastScore { get; private set; }

    /// <summary>The latest hey_jarvis inputs this pipeline sent (16 embeddings each, the last 200 at most): real inputs to calibrate and judge a quantized hey_jarvis on.</summary>
    public IReadOnlyList<float[]> Windows => [.. _windows];

    /// <summary>Feeds one second of audio per second until cancelled; a failed request is counted and the audio goes on.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        do
        {
            try
            {
                await OneSecondAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException)
            {
                Failures++;
            }
        }
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }

    private async Task OneSecondAsync(CancellationToken cancellationToken)
    {
        var (mel, melShape) = await InferAsync("melspectrogram", "input", [1, SampleRate], Audio(), cancellationToken).ConfigureAwait(false);
        var bins = (int)melShape[^1];
        for (var offset = 0; offset + bins <= mel.Length; offset += bins)
        {
            // openWakeWord's scaling of the mel frames before the embedding model.
            _frames.Add(mel.AsSpan(offset, bins).ToArray().Select(v => (v / 10f) + 2f).ToArray());
            _framesSinceEmbedding++;
            if (_frames.Count > MelWindow)
            {
                _frames.RemoveAt(0);
            }

            if (_frames.Count == MelWindow && _framesSinceEmbedding >= MelStep)
            {
                _framesSinceEmbedding = 0;
                var (embedding, _) = await InferAsync("embedding", "input_1", [1, MelWindow, bins, 1], [.. _frames.SelectMany(f => f)], cancellationToken).ConfigureAwait(false);
                _embeddings.Add(embedding);
                if (_embeddings.Count > Embeddings)
                {
                    _embeddings.RemoveAt(0);
                }

                if (_embeddings.Count == Embeddings)
                {
                    float[] window = [.. _embeddings.SelectMany(e => e)];
                    _windows.Enqueue(window);
                    while (_windows.Count > 200 && _windows.TryDequeue(out _))
                    {
                    }

                    var (score, _) = await InferAsync("hey_jarvis", "x.1", [1, Embeddings, embedding.Length], window, cancellationToken).ConfigureAwait(false);
                    LastScore = score[0];
                }
            }
        }
    }

    /// <summary>Tones that glide, over noise, with a louder burst now and then: something like a room with speech in it.</summary>
    private float[] Audio()
    {
        var samples = new float[SampleRate];
        var loud = _random.NextDouble() < 0.3;
        var frequency = 200 + (_random.NextDouble() * 800);
        for (var i = 0; i < samples.Length; i++)
        {
            _phase += 2 * Math.PI * (frequency + (i * 0.02)) / SampleRate;
            var tone = Math.Sin(_phase) * (loud ? 6000 : 1500);
            samples[i] = (float)(tone + ((_random.NextDouble() - 0.5) * 800));
        }

        return samples;
    }

    /// <summary>One v2 JSON request with a single FP32 input; the first output and its shape.</summary>
    public async Task<(float[] Data, long[] Shape)> InferAsync(string model, string input, long[] shape, float[] data, CancellationToken cancellationToken)
    {
        var body = new ArrayBufferWriter<byte>(data.Length * 12);
        using (var writer = new Utf8JsonWriter(body))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("inputs");
            writer.WriteStartObject();
            writer.WriteString("name", input);
            writer.WriteString("datatype", "FP32");
            writer.WriteStartArray("shape");
            foreach (var dimension in shape)
            {
                writer.WriteNumberValue(dimension);
            }

            writer.WriteEndArray();
            writer.WriteStartArray("data");
            foreach (var value in data)
            {
                writer.WriteNumberValue(value);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        using var content = new ByteArrayContent(body.WrittenMemory.ToArray());
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        Requests++;
        using var response = await _http.PostAsync(new Uri($"v2/models/{model}/infer", UriKind.Relative), content, cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{model}: {(int)response.StatusCode} {System.Text.Encoding.UTF8.GetString(text)}");
        }

        using var json = JsonDocument.Parse(text);
        var output = json.RootElement.GetProperty("outputs")[0];
        return (
            output.GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray(),
            output.GetProperty("shape").EnumerateArray().Select(v => v.GetInt64()).ToArray());
    }
}
