using System.Security.Cryptography;
using EdgeInference.Agent.Updates;
using EdgeInference.Packaging;
using EdgeInference.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace EdgeInference.Tests.Fleet;

/// <summary>The agent's package downloader against a real HTTP server that cuts connections, lies about sizes and sends wrong bytes.</summary>
public sealed class PackageDownloaderTests
{
    private static readonly byte[] Content = RandomNumberGenerator.GetBytes(600_000);

    [Fact]
    public async Task Download_CutHalfway_ResumesWithARangeRequestAndFetchesOnlyTheRest()
    {
        var ranges = new List<string>();
        await using var server = await StartServerAsync(async context =>
        {
            var range = context.Request.Headers.Range.ToString();
            lock (ranges)
            {
                ranges.Add(range);
            }

            if (range.Length == 0)
            {
                // The first attempt: half the file, then the connection drops.
                context.Response.ContentLength = Content.Length;
                await context.Response.Body.WriteAsync(Content.AsMemory(0, Content.Length / 2));
                await context.Response.Body.FlushAsync();
                await Task.Delay(100); // let the client read what was sent: a reset may discard bytes still unread
                context.Abort();
                return;
            }

            var from = RangeStart(range);
            context.Response.StatusCode = 206;
            context.Response.Headers.ContentRange = $"bytes {from}-{Content.Length - 1}/{Content.Length}";
            context.Response.ContentLength = Content.Length - from;
            await context.Response.Body.WriteAsync(Content.AsMemory(from));
        });
        var folder = TestPaths.NewTempDirectory("downloads");
        var downloader = Downloader();

        var path = await downloader.DownloadAsync(server.Url, FileOf(Content), folder, "device-token", CancellationToken.None);

        Assert.Equal(Content, await File.ReadAllBytesAsync(path));
        // The second request asks from where the first one stopped (at most the half sent; less if the reset
        // discarded bytes in flight), and every byte of the file arrives exactly once.
        Assert.Equal(2, ranges.Count);
        Assert.Equal("", ranges[0]);
        Assert.StartsWith("bytes=", ranges[1], StringComparison.Ordinal);
        Assert.InRange(RangeStart(ranges[1]), 1, Content.Length / 2);
        Assert.Equal(Content.Length, downloader.BytesReceived);
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public async Task Download_OfMoreThanTheSignedSizeOrOtherBytes_IsRefusedWithTheReasonAndLeavesNothing()
    {
        await using var server = await StartServerAsync(context => context.Response.Body.WriteAsync(Content).AsTask());
        var folder = TestPaths.NewTempDirectory("downloads");
        var downloader = Downloader();

        var smaller = FileOf(Content.AsSpan(0, 1000).ToArray());
        var tooLarge = await Assert.ThrowsAsync<PackageRejectedException>(() => downloader.DownloadAsync(server.Url, smaller, folder, null, CancellationToken.None));
        Assert.Equal(RejectionReasons.TooLarge, tooLarge.Reason);

        var other = FileOf(Content);
        other.Sha256 = Convert.ToHexStringLower(SHA256.HashData(new byte[] { 1 }));
        var mismatch = await Assert.ThrowsAsync<PackageRejectedException>(() => downloader.DownloadAsync(server.Url, other, folder, null, CancellationToken.None));
        Assert.Equal(RejectionReasons.HashMismatch, mismatch.Reason);
        Assert.Empty(Directory.EnumerateFiles(folder));
        Directory.Delete(folder, recursive: true);
    }

    /// <summary>The first byte an open-ended <c>Range: bytes=N-</c> header asks for.</summary>
    private static int RangeStart(string range) =>
        int.Parse(range["bytes=".Length..].TrimEnd('-'), System.Globalization.CultureInfo.InvariantCulture);

    private static PackageDownloader Downloader() => new(
        new HttpClient(),
        new UpdateOptions { DownloadAttempts = 3, DownloadTimeout = TimeSpan.FromSeconds(10) },
        TimeProvider.System);

    private static PackageFile FileOf(byte[] bytes) => new()
    {
        Path = "model.onnx", Role = PackageRoles.Model, Size = bytes.Length, Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)),
    };

    private static async Task<TestServer> StartServerAsync(RequestDelegate handler)
    {
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        app.Run(handler);
        await app.StartAsync();
        return new TestServer(app, $"http://127.0.0.1:{port}/pkg");
    }

    private sealed record TestServer(WebApplication App, string Url) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await App.DisposeAsync();
    }
}
