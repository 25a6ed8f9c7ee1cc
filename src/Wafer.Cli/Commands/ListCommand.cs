using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace Wafer.Cli.Commands;

internal static class ListCommand
{
    public static Command Create()
    {
        Argument<string> archive = CommonOptions.Archive();
        var filter = new Option<string>("--filter") { Description = "Only tensors whose name matches this pattern (* and ? wildcards)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON array." };
        var command = new Command("ls", "List the tensors of an archive.") { archive, filter, json };
        command.SetAction(parse =>
        {
            using WaferArchive opened = WaferArchive.Open(parse.GetValue(archive)!);
            List<ArchiveTensor> tensors = TensorFilter.Select(opened, null, parse.GetValue(filter));
            if (parse.GetValue(json))
            {
                using var writer = new Utf8JsonWriter(Console.OpenStandardOutput(), new JsonWriterOptions { Indented = true });
                writer.WriteStartArray();
                foreach (ArchiveTensor tensor in tensors)
                {
                    writer.WriteStartObject();
                    writer.WriteString("name", tensor.Name);
                    writer.WriteString("dtype", tensor.DTypeName);
                    writer.WriteStartArray("shape");
                    foreach (long dim in tensor.Shape)
                    {
                        writer.WriteNumberValue(dim);
                    }

                    writer.WriteEndArray();
                    writer.WriteString("file", tensor.File.Path);
                    writer.WriteNumber("offset", tensor.Offset);
                    writer.WriteNumber("size", tensor.Size);
                    writer.WriteNumber("storedSize", tensor.StoredSize);
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                writer.Flush();
                Console.WriteLine();
                return ExitCodes.Success;
            }

            foreach (ArchiveTensor tensor in tensors)
            {
                string shape = "[" + string.Join(", ", tensor.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";
                Console.WriteLine($"{tensor.Name}\t{tensor.DTypeName}\t{shape}\t{tensor.Size}\t{tensor.StoredSize}\t{tensor.File.Path}");
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
