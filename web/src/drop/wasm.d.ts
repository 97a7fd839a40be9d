// esbuild's "file" loader turns a .wasm import into its hashed URL.
declare module "*.wasm" {
  const url: string;
  export default url;
}
