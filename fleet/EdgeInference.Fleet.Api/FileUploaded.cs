namespace EdgeInference.Fleet.Api;

/// <summary><c>PUT /api/v1/packages/{name}/{version}/files/{file}</c>: the file the fleet now holds, and its size.</summary>
public sealed class FileUploaded
{
    public string File { get; set; } = "";

    public long Size { get; set; }
}
